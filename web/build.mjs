// Deterministic bundle of the browser editor: web/static/dist/editor.{js,css}.
import * as esbuild from 'esbuild'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const here = path.dirname(fileURLToPath(import.meta.url))

await esbuild.build({
  absWorkingDir: here,
  entryPoints: { editor: 'src/main.js' },
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  outdir: 'static/dist',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
  metafile: false
})
// The early live connection (src/connect.js), a script of a few hundred bytes that the editor
// page runs from its <head>: the text's round trip overlaps loading the editor.
await esbuild.build({
  absWorkingDir: here,
  stdin: {
    contents: "import { openEarly } from './src/connect.js'\nopenEarly(document.currentScript)\n",
    resolveDir: here,
    sourcefile: 'connect-entry.js'
  },
  bundle: true,
  format: 'iife',
  target: 'es2020',
  platform: 'browser',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  outfile: 'static/dist/connect.js',
  logLevel: 'warning'
})
await esbuild.build({
  absWorkingDir: here,
  entryPoints: { editor: 'src/editor.css' },
  bundle: true,
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  charset: 'utf8',
  outdir: 'static/dist',
  logLevel: 'warning'
})
