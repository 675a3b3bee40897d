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
