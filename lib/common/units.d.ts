// Units the public types are written in: numbers named by meaning.

/** A count of bytes. */
export type Bytes = number
/** A duration in milliseconds. */
export type Milliseconds = number
