// Type-checked (tsc --noEmit) against index.d.ts: every public API as a user writes it.
import leakguard = require('../../index.js')
import { processMemory, codes } from '../../index.js'

const m = processMemory()
const rss: number = m.rss
const ab: number | undefined = processMemory({ arrayBuffers: true }).arrayBuffers
const code: 'ERR_LEAKGUARD_INVALID_OPTION' = codes.INVALID_OPTION
leakguard.processMemory()
void rss; void ab; void code

// @ts-expect-error arrayBuffers must be a boolean
processMemory({ arrayBuffers: 1 })

// BoundedCache
import { BoundedCache, type DisposeReason, type BoundedCacheOptions, type BoundedCacheStats } from '../../index.js'
const reasons: DisposeReason[] = []
const cacheOptions: BoundedCacheOptions<string, { id: number } | string> = {
  max: 100, maxSize: 1 << 20, ttl: 60_000, name: 'users', dispose: (_v, _k, r) => { reasons.push(r) }
}
const users = new BoundedCache(cacheOptions)
users.set('user:1', { id: 1 }).set('user:2', 'two', { ttl: 1000 })
const u: { id: number } | string | undefined = users.get('user:1')
const bytes = new BoundedCache<string, Uint8Array>({ maxSize: 1024, perf: { now: () => 0 } })
const b: Buffer | undefined = bytes.get('k')
const st: BoundedCacheStats = users.stats()
const dumped = users.dump()
users.load(dumped)
for (const [k, v] of users) void [k, v]
const dropped: boolean = BoundedCache.drop('users')
void u; void b; void st; void dropped; void users.calculatedSize

// @ts-expect-error functions cannot be stored
users.set('f', () => 1)
// @ts-expect-error ttl is a number of ms
void new BoundedCache({ max: 1, ttl: '1s' })
