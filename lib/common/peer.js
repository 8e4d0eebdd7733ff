'use strict'
// Loads an optional peer dependency (prom-client, @opentelemetry/api) from the
// user's install. `require('leakguard')` never comes here: only the exporter
// subpaths do, and a missing peer is a coded error that says what to install.

const { leakguardError } = require('./errors')

/**
 * @param {string} name the package, e.g. 'prom-client'
 * @param {string} subpath the leakguard subpath that needs it, e.g. 'leakguard/prometheus'
 */
function requirePeer(name, subpath) {
  try {
    return require(name)
  } catch (err) {
    // Only "this very package is absent" is a missing peer; an error thrown
    // while loading an installed peer is the peer's own and is rethrown.
    const missing =
      err && err.code === 'MODULE_NOT_FOUND' && typeof err.message === 'string' && err.message.includes(`'${name}'`)
    if (!missing) throw err
    throw leakguardError(
      'MISSING_PEER',
      `${subpath} needs the optional peer dependency '${name}', which is not installed: run \`npm install ${name}\``,
      { cause: err }
    )
  }
}

module.exports = { requirePeer }
