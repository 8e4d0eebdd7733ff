'use strict'
// The memo of hot values: the JS half. The native half, and the reason the
// two agree, is src/cache/binding/memo.rs.
//
// A native get costs ~100-130 ns, most of it the N-API boundary, reading the
// key string and creating the value string; lru-cache's is ~40-50 ns. So
// recently read small immutable values (strings up to STRING_MAX characters,
// numbers, booleans, null; not Buffers or objects, which every get must copy)
// are also kept here, up to SLOTS of them, and a get of one costs a Map
// lookup. It stays exact:
// - recency and the hit counter: each memo read is queued by slot in `queue`,
//   which the native store replays (as get hits, in order) at the start of
//   its next call of any kind, and every REPLAY reads; so eviction order,
//   keys() and stats() are what they would be without it;
// - contents: set and delete drop their key (set keeps it if the value is
//   the same), an eviction reports the memo slot it emptied, and clear, pop
//   and load empty the memo.

/**
 * The memo protocol, one half of it; the other is the const block at the top
 * of src/cache/binding/memo.rs (the spec checks that the two agree through
 * `cacheOps.memoProtocol`).
 * - The replay queue is an Int32Array `[count, slot, slot, ...]`: the count
 *   of queued reads at QUEUE_COUNT, the slots from QUEUE_FIRST on, in order.
 *   An entry of QUEUE_SET + slot is a set of the value the slot holds
 *   (recency and the `sets` count are all it changes), served here too.
 * - A native set returns EVICTED_NONE when its evictions emptied no memo
 *   slot, EVICTED_SEVERAL when they emptied more than one, else the slot.
 * - Slots are below SLOTS_MAX.
 * - A store that threads share has change stamps (`cacheOps.stamps(h)`, an
 *   ArrayBuffer of STAMP_SLOTS u32, native memory all threads see): every
 *   change to an entry bumps the stamp of its key's slot. `getRemember`
 *   writes the key's stamp slot at SEEN_SLOT and the stamp it read (before
 *   the value) at SEEN_STAMP of `seen`; a memo entry is good while that
 *   stamp is unchanged.
 */
const PROTOCOL = Object.freeze({
  QUEUE_COUNT: 0,
  QUEUE_FIRST: 1,
  QUEUE_SET: 1 << 16,
  EVICTED_NONE: -1,
  EVICTED_SEVERAL: -2,
  SLOTS_MAX: 1 << 16,
  SEEN_SLOT: 0,
  SEEN_STAMP: 1,
  STAMP_SLOTS: 4096
})

/** Slots in use, the longest string kept, and memo reads queued before a replay. */
const SLOTS = 2048
const STRING_MAX = 256
const REPLAY = 256

// Adaptivity. A memo hit costs a Map lookup (~40 ns here), a miss a native
// get that also records the slot plus a Map insert (~2x a plain native get),
// so the memo only pays while most reads hit it: measured break-even is a
// hit rate of ~0.6 (see benches/cache.bench.mjs, uniform vs 90/10 rows).
// Every WINDOW memo lookups the hit rate is judged: below OFF_BELOW the memo
// stands aside (reads go straight to the store) except for one read in
// SAMPLE (judged SAMPLED_WINDOW at a time), which still goes through it; once those sampled reads hit more
// than ON_ABOVE (a hot set appeared) it is used again.
const WINDOW = 1024
const OFF_BELOW = 0.5
const ON_ABOVE = 0.6
const SAMPLE = 64
/** Sampled lookups judged at once while the memo stands aside. */
const SAMPLED_WINDOW = 64

const { QUEUE_COUNT, QUEUE_FIRST, QUEUE_SET, EVICTED_NONE, EVICTED_SEVERAL, SEEN_SLOT, SEEN_STAMP } = PROTOCOL

/** Values that may be handed out twice: immutable and small. */
function memoizable(v) {
  const t = typeof v
  return t === 'string' ? v.length <= STRING_MAX : t === 'number' || t === 'boolean' || v === null
}

class Memo {
  /**
   * @param {ArrayBuffer} [stamps] the change stamps of a store other threads
   *   also change (see PROTOCOL); without, only this instance changes it.
   */
  constructor(stamps) {
    if (stamps !== undefined) {
      this.stamps = new Int32Array(stamps)
      this.stampAt = new Int32Array(SLOTS)
      this.stampOf = new Int32Array(SLOTS)
    }
  }
  /** The store's change stamps, and per memo slot the stamp slot and stamp it was read at. */
  stamps = null
  stampAt = null
  stampOf = null
  /** Where getRemember reports the stamp it read (given to `bind`). */
  seen = new Int32Array(2)
  /** key -> slot */
  slots = new Map()
  /** slot -> key, slot -> value */
  keys = new Array(SLOTS)
  values = new Array(SLOTS)
  /** The next free slot. */
  next = 0
  /** Reads the native store has not seen yet (see PROTOCOL), given to its `bind`. */
  queue = new Int32Array(QUEUE_FIRST + REPLAY)
  /** The native replay: set by the owner once the store is bound. */
  replay = null
  /** Whether reads go through the memo (see WINDOW); when not, one in SAMPLE does. */
  on = true
  skip = 0
  hits = 0
  misses = 0

  /** Counts a miss; while the memo serves reads, every WINDOW lookups decide whether it pays. */
  missed() {
    if (++this.misses + this.hits < WINDOW || !this.on) return
    this.on = this.hits / WINDOW >= OFF_BELOW
    this.hits = 0
    this.misses = 0
  }

  /**
   * Whether this read, while the memo stands aside, is one of the sampled
   * ones; every SAMPLED_WINDOW samples decide whether it serves reads again.
   */
  sampled() {
    if (--this.skip > 0) return false
    this.skip = SAMPLE
    const n = this.hits + this.misses
    if (n >= SAMPLED_WINDOW) {
      this.on = this.hits / n > ON_ABOVE
      this.hits = 0
      this.misses = 0
    }
    return true
  }

  /** The value of a memo slot read now, queued for the store. */
  hit(slot) {
    this.hits++
    this.enqueue(slot)
    return this.values[slot]
  }

  /**
   * A set of `value` under `key`, served here when the memo holds exactly
   * that value for it (still the store's): queued for the store like a
   * read. False: the store must do it (and the memo no longer holds `key`).
   */
  setSame(key, value) {
    if (this.next === 0) return false
    const slot = this.slots.get(key)
    if (slot === undefined) return false
    if (Object.is(this.values[slot], value) && this.valid(slot)) {
      this.enqueue(QUEUE_SET + slot)
      return true
    }
    this.dropSlot(slot) // the set changes it
    return false
  }

  /** Queues a read or a same-value set for the store (see PROTOCOL). */
  enqueue(entry) {
    const queue = this.queue
    const n = queue[QUEUE_COUNT] + 1
    queue[QUEUE_FIRST - 1 + n] = entry // the n-th queued event
    queue[QUEUE_COUNT] = n
    if (n === REPLAY) this.replay()
  }

  /** The slot the next remembered value will take (emptying the memo when full). */
  freeSlot() {
    if (this.next === SLOTS) this.forget()
    return this.next
  }

  /** Whether the value in `slot` is still the store's (always, unless other threads change it). */
  valid(slot) {
    const stamps = this.stamps
    return stamps === null || Atomics.load(stamps, this.stampAt[slot]) === this.stampOf[slot]
  }

  /** Keeps `value` (read from the store under `slot`) if it may be handed out twice. */
  remember(key, slot, value) {
    if (!memoizable(value)) return
    if (this.stamps !== null) {
      this.stampAt[slot] = this.seen[SEEN_SLOT]
      this.stampOf[slot] = this.seen[SEEN_STAMP]
    }
    this.slots.set(key, slot)
    this.keys[slot] = key
    this.values[slot] = value
    this.next = slot + 1
  }

  /** Drops one key. */
  drop(key) {
    const slot = this.slots.get(key)
    if (slot !== undefined) this.dropSlot(slot)
  }

  /** Drops `key` unless it holds exactly `value` (a set of the same value keeps it, as the store keeps its bytes). */
  dropUnlessSame(key, value) {
    if (this.next === 0) return
    const slot = this.slots.get(key)
    if (slot !== undefined && !Object.is(this.values[slot], value)) this.dropSlot(slot)
  }

  dropSlot(slot) {
    const key = this.keys[slot]
    if (key === undefined) return // already dropped
    this.slots.delete(key)
    this.keys[slot] = undefined
    this.values[slot] = undefined
  }

  /** Empties the memo, after the store has replayed its queue (its slots are about to be reused). */
  forget() {
    if (this.queue[QUEUE_COUNT] !== 0) this.replay()
    if (this.next === 0) return
    this.slots.clear()
    this.keys.fill(undefined, 0, this.next)
    this.values.fill(undefined, 0, this.next)
    this.next = 0
  }

  /** What a native set returned: the memo slot its evictions emptied (see PROTOCOL). */
  afterSet(evicted) {
    if (evicted === EVICTED_NONE) return
    if (evicted === EVICTED_SEVERAL) this.forget()
    else this.dropSlot(evicted)
  }
}

module.exports = { Memo, PROTOCOL, SLOTS, WINDOW, SAMPLE, SAMPLED_WINDOW }
