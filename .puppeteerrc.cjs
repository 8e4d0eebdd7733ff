// memlab (a devDependency used as the reference implementation in the heap
// snapshot tests) depends on puppeteer, whose install step would download a
// browser. leakguard never drives puppeteer's browser, and the machines we
// build on have no network beyond the package registries: skip the download.
module.exports = { skipDownload: true }
