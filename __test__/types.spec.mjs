// The hand-written types against the runtime: what index.d.ts says `codes` is
// must be exactly what errorCodes() (the table in src/errors.rs) returns, so
// the types cannot drift from the error table.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const require = createRequire(import.meta.url)
const ts = require('typescript')
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The exports of index.d.ts as the TypeScript checker sees them (through every re-export). */
function publicTypes() {
  const entry = path.join(root, 'index.d.ts')
  const program = ts.createProgram([entry], {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    types: []
  })
  const checker = program.getTypeChecker()
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)))
  return { checker, exports: new Map(exports.map((s) => [s.name, s])) }
}

/** The symbol an export stands for (through `export * from`). */
function target(checker, symbol) {
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
}

test('the codes type of index.d.ts equals errorCodes() key for key', () => {
  const { checker, exports } = publicTypes()
  const symbol = exports.get('codes')
  assert.ok(symbol, 'index.d.ts exports codes')
  const type = checker.getTypeOfSymbol(target(checker, symbol))
  const typed = {}
  for (const property of checker.getPropertiesOfType(type)) {
    const value = checker.getTypeOfSymbol(property)
    assert.ok(value.isStringLiteral(), `codes.${property.name} is typed as one string literal`)
    typed[property.name] = value.value
  }
  const { codes } = require('leakguard')
  assert.deepEqual(typed, { ...codes })
  assert.deepEqual(typed, { ...require('../binding.js').errorCodes() })
})

test('index.d.ts declares exactly the values the CommonJS and ESM entries export', async () => {
  const { checker, exports } = publicTypes()
  const declared = [...exports.values()]
    .filter((s) => (target(checker, s).flags & ts.SymbolFlags.Value) !== 0)
    .map((s) => s.name)
    .sort()
  assert.deepEqual(declared, Object.keys(require('leakguard')).sort())
  const esm = Object.keys(await import('leakguard')).filter((k) => k !== 'default')
  assert.deepEqual(declared, esm.sort())
})
