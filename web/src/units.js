// Helpers over the ProseMirror document: unit lookup, numbering, tree extraction.
import { numberUnits } from './numbering.js'
import { isUnitType } from './schema.js'

// Pre-order list of units: {node, pos, depth, parentPos}
export function collectUnits (doc) {
  const out = []
  const walk = (node, offset, depth) => {
    node.forEach((child, childOffset) => {
      if (isUnitType(child.type)) {
        const pos = offset + childOffset
        out.push({ node: child, pos, depth })
        walk(child, pos + 1, depth + 1)
      }
    })
  }
  walk(doc, 0, 0)
  return out
}

function toTree (doc) {
  const build = (node) => {
    const kids = []
    node.forEach(child => {
      if (isUnitType(child.type)) kids.push({ kind: child.type.name, pin: child.attrs.pin, children: build(child) })
    })
    return kids
  }
  return build(doc)
}

const labelCache = new WeakMap()

// Returns array aligned with collectUnits(doc): [{node, pos, depth, num, label}]
export function labelledUnits (doc, opts) {
  const text = value => typeof value === 'string' ? value : JSON.stringify(value || null)
  const key = (opts.language || '') + '|' + text(opts.numbering) + '|' + text(opts.labels)
  const cached = labelCache.get(doc)
  if (cached && cached.key === key) return cached.list
  const units = collectUnits(doc)
  const numbers = numberUnits(toTree(doc), opts)
  const list = units.map((u, i) => Object.assign(u, { num: numbers[i].num, label: numbers[i].label }))
  labelCache.set(doc, { key, list })
  return list
}

// Depth (in $pos terms) of the innermost unit containing $pos, or -1.
export function unitDepth ($pos) {
  for (let d = $pos.depth; d > 0; d--) {
    if (isUnitType($pos.node(d).type)) return d
  }
  return -1
}

export function unitDepthOfKind ($pos, kinds) {
  for (let d = $pos.depth; d > 0; d--) {
    if (kinds.includes($pos.node(d).type.name)) return d
  }
  return -1
}

// Position of the first textblock inside the node at `pos`, + 1 (i.e. a text position), or null.
export function firstTextPos (doc, pos) {
  const node = doc.nodeAt(pos)
  if (!node) return null
  if (node.isTextblock) return pos + 1
  let found = null
  node.descendants((child, p) => {
    if (found !== null) return false
    if (child.isTextblock) { found = pos + 1 + p + 1; return false }
    return true
  })
  return found
}
