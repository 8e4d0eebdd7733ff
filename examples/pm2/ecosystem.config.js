// pm2 ecosystem file for examples/pm2/worker.js.
//
//   npm install -g pm2
//   pm2 start examples/pm2/ecosystem.config.js
//   pm2 logs leakguard-worker      # the recycle message says what leaks
//
// The worker exits 0 by itself after LEAKGUARD_MAX_JOBS jobs or at its memory
// threshold, between two jobs (leakguard's recycle net); pm2's autorestart
// starts a fresh one. max_memory_restart stays as a last resort, set above the
// worker's own maxRss: pm2 kills wherever the process is, mid-job included,
// while the recycle net waits for the running job to finish.
module.exports = {
  apps: [{
    name: 'leakguard-worker',
    script: './worker.js',
    cwd: __dirname,
    instances: 2,
    exec_mode: 'fork',
    autorestart: true,
    // The recycle exit is a normal exit: restart at once, without pm2's backoff.
    restart_delay: 0,
    max_memory_restart: '600M',
    // Longer than a job: lets a pm2 stop/reload wait for the running job.
    kill_timeout: 30_000,
    env: {
      LEAKGUARD_MAX_JOBS: '100000',
      LEAKGUARD_MAX_RSS_MB: '512',
      LEAKGUARD_JOB_MS: '5'
    }
  }]
}
