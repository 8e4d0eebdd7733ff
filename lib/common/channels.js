'use strict'
// The diagnostics_channel names through which leakguard's parts talk to each
// other and to the outside (APMs, the Prometheus/OTel exporters). Publishers
// check `hasSubscribers` first, so an unobserved channel costs nothing.

const dc = require('node:diagnostics_channel')

/** A job run through guard()/withScope() ended; message = the scope report. */
const jobEnd = dc.channel('leakguard:job:end')
/** The monitor took a sample; message = the sample object. */
const sample = dc.channel('leakguard:sample')
/** The monitor raised a trend warning; message = the warning object. */
const warning = dc.channel('leakguard:warning')
/** A configured absolute limit was crossed; message = the limit event. */
const limit = dc.channel('leakguard:limit')

/** A job run through guard()/withScope() started; message = { name }. Lets the recycle net count jobs in flight. */
const jobStart = dc.channel('leakguard:job:start')

module.exports = { jobEnd, sample, warning, limit, jobStart }
