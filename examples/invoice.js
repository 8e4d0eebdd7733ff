'use strict'
// The work both example workers do: build the i-th job as a queue would
// deliver it, and render it to text.

/** The i-th job: an invoice with 8 line items. */
function makeJob (i) {
  return {
    id: `inv-${i}`,
    data: {
      customer: `c-${i % 97}`,
      items: Array.from({ length: 8 }, (_, k) => ({ sku: `SKU-${(i * 8 + k) % 5000}`, qty: 1 + (k % 3), price: 9.5 + k }))
    }
  }
}

function render (job, currency) {
  const lines = job.data.items.map((it) => `${it.sku.padEnd(10)} ${String(it.qty).padStart(4)} x ${it.price.toFixed(2)}`)
  const total = job.data.items.reduce((sum, it) => sum + it.qty * it.price, 0)
  return `Invoice ${job.id} for customer ${job.data.customer}\n${lines.join('\n')}\nTotal ${total.toFixed(2)} ${currency}`
}

module.exports = { makeJob, render }
