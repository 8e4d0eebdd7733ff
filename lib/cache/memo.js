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
 * - A native set returns EVICTED_NONE when its evictions emptied no memo
 *   slot, EVICTED_SEVERAL when they emptied more than one, else the slot.
 * - Slots are below SLOTS_MAX.
 */
const PROTOCOL = Object.freeze({
  QUEUE_COUNT: 0,
  QUEUE_FIRST: 1,
  EVICTED_NONE: -1,
  EVICTED_SEVERAL: -2,
  SLOTS_MAX: 1 << 16
})

/** Slots in use, the longest string kept, and memo reads queued before a replay. */
const SLOTS = 2048
const STRING_MAX = 256
const REPLAY = 256

const { QUEUE_COUNT, QUEUE_FIRST, EVICTED_NONE, EVICTED_SEVERAL } = PROTOCOL

/** Values that may be handed out twice: immutable and small. */
function memoizable(v) {
  const t = typeof v
  return t === 'string' ? v.length <= STRING_MAX : t === 'number' || t === 'boolean' || v === null
}

class Memo {
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

  /** The value of a memo slot read now, queued for the store. */
  hit(slot) {
    const queue = this.queue
    const n = queue[QUEUE_COUNT] + 1
    queue[QUEUE_FIRST - 1 + n] = slot // the n-th queued read
    queue[QUEUE_COUNT] = n
    if (n === REPLAY) this.replay()
    return this.values[slot]
  }

  /** The slot the next remembered value will take (emptying the memo when full). */
  freeSlot() {
    if (this.next === SLOTS) this.forget()
    return this.next
  }

  /** Keeps `value` (read from the store under `slot`) if it may be handed out twice. */
  remember(key, slot, value) {
    if (!memoizable(value)) return
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

module.exports = { Memo, PROTOCOL, SLOTS }
