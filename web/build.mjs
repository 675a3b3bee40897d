// Deterministic bundle of the browser editor: web/static/dist/editor.{js,css}.
import * as esbuild from 'esbuild'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))
// What every output shares: minified, no source map or legal comments, UTF-8, quiet.
const common = { absWorkingDir: here, bundle: true, minify: true, sourcemap: false, legalComments: 'none', charset: 'utf8', logLevel: 'warning' }
const script = { ...common, format: 'iife', target: 'es2020', platform: 'browser' }

await esbuild.build({
  ...script,
  entryPoints: { editor: 'src/main.js' },
  outdir: 'static/dist',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: false
})
// The early live connection (src/connect.js), a script of a few hundred bytes that the editor
// page runs from its <head>: the text's round trip overlaps loading the editor.
await esbuild.build({
  ...script,
  stdin: {
    contents: "import { openEarly } from './src/connect.js'\nopenEarly(document.currentScript)\n",
    resolveDir: here,
    sourcefile: 'connect-entry.js'
  },
  outfile: 'static/dist/connect.js'
})
await esbuild.build({ ...common, entryPoints: { editor: 'src/editor.css' }, outdir: 'static/dist' })
