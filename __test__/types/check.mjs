// The types matrix (run by `npm run lint`): compiles usage.ts / usage.mts, every public API
// as a user writes it, under each tsconfig*.json of this folder (strict; node16, nodenext and
// bundler resolution; a Node-only lib or the DOM beside it; with and without skipLibCheck),
// and prints one line per cell. Exits 1 on any diagnostic.
//
// One process, one parse of each file shared by all cells (the cells differ only in options),
// so the matrix costs a little more than one `tsc -p`, not seven.
import { readdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const ts = require('typescript')
const here = path.dirname(fileURLToPath(import.meta.url))

const sourceFiles = new Map()
function cachingHost(options) {
  const host = ts.createCompilerHost(options)
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (fileName, languageVersionOrOptions, onError, shouldCreate) => {
    const v = languageVersionOrOptions
    const key = `${fileName}\0${typeof v === 'object' ? `${v.languageVersion}:${v.impliedNodeFormat}` : v}`
    let file = sourceFiles.get(key)
    if (!file) {
      file = getSourceFile.call(host, fileName, languageVersionOrOptions, onError, shouldCreate)
      if (file) sourceFiles.set(key, file)
    }
    return file
  }
  return host
}

const formatHost = {
  getCanonicalFileName: (f) => f,
  getCurrentDirectory: () => process.cwd(),
  getNewLine: () => '\n'
}

const cells = readdirSync(here)
  .filter((f) => /^tsconfig(\..+)?\.json$/.test(f))
  .sort()
let failed = 0
for (const file of cells) {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(here, file),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} }
  )
  if (!config) throw new Error(`cannot read ${file}`)
  const o = config.options
  const program = ts.createProgram({ rootNames: config.fileNames, options: o, host: cachingHost(o) })
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)]
  const cell = [
    `module ${ts.ModuleKind[o.module]}`,
    `resolution ${ts.ModuleResolutionKind[o.moduleResolution]}`,
    `lib ${(o.lib ?? ['default']).map((l) => l.replace(/^lib\.|\.d\.ts$/g, '')).join('+')}`,
    `skipLibCheck ${Boolean(o.skipLibCheck)}`,
    `strict ${Boolean(o.strict)}`
  ].join(', ')
  process.stdout.write(`${diagnostics.length === 0 ? 'ok  ' : 'FAIL'} ${file}: ${cell}: ${diagnostics.length} errors\n`)
  if (diagnostics.length > 0) {
    failed++
    process.stdout.write(ts.formatDiagnostics(diagnostics, formatHost))
  }
}
process.exitCode = failed === 0 ? 0 : 1
