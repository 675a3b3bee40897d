// Helpers over the ProseMirror document: unit lookup, numbering, tree extraction, and what a
// change did to the unit tree (so that a keystroke costs what it changed, not the whole document).
import { Mapping, StepMap } from 'prosemirror-transform'
import { DecorationSet } from 'prosemirror-view'
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

// The unit tree numbering reads. `skip(node)`: leave that unit (and what is in it) out.
function toTree (doc, skip = null) {
  const build = (node) => {
    const kids = []
    node.forEach(child => {
      if (isUnitType(child.type) && !(skip && skip(child))) {
        kids.push({ kind: child.type.name, pin: child.attrs.pin, children: build(child) })
      }
    })
    return kids
  }
  return build(doc)
}

// For each unit of collectUnits(doc): whether it is (or is in) a pending suggested unit, and
// whether it is (or is in) a unit suggested for removal (web/src/suggest.js).
function pendingFlags (units) {
  const flags = []
  const open = [] // the units around the current one: [end position, flags]
  for (const u of units) {
    while (open.length && u.pos >= open[open.length - 1][0]) open.pop()
    const outer = open.length ? open[open.length - 1][1] : { suggested: false, removed: false }
    const here = { suggested: outer.suggested || !!u.node.attrs.suggestion, removed: outer.removed || !!u.node.attrs.removal }
    flags.push(here)
    open.push([u.pos + u.node.nodeSize, here])
  }
  return flags
}

// Numbers as the accepted text has them (the server's, the public pages'): a pending suggested
// unit does not move the units after it. It shows, "(provisional)", the number it would have
// were the pending suggestions accepted (a moved unit's new place: its number there).
function numbered (doc, units, opts) {
  const all = numberUnits(toTree(doc), opts)
  if (!units.some(u => u.node.attrs.suggestion)) return all
  const accepted = numberUnits(toTree(doc, node => !!node.attrs.suggestion), opts)
  const future = numberUnits(toTree(doc, node => !!node.attrs.removal), opts)
  let a = 0
  let f = 0
  return pendingFlags(units).map(({ suggested, removed }, i) => {
    const n = !suggested ? accepted[a] : !removed ? future[f] : all[i]
    if (!suggested) a++
    if (!removed) f++
    return n
  })
}

// --- what a change did ----------------------------------------------------------------------------

// Depth of the innermost unit around both `$from` and `to`, or 0.
function innermostUnitDepth ($from, to) {
  for (let d = $from.sharedDepth(to); d > 0; d--) {
    if (isUnitType($from.node(d).type)) return d
  }
  return 0
}

// Whether a unit other than the one at `unitPos` (and its ancestors) overlaps [from, to).
function unitInside (doc, from, to, unitPos) {
  let found = false
  doc.nodesBetween(from, to, (node, pos) => {
    if (found || node.isTextblock) return false
    if (pos > unitPos && isUnitType(node.type)) found = true
    return !found
  })
  return found
}

function computeChange (a, b) {
  const from = a.content.findDiffStart(b.content)
  if (from === null) return { from: null, textOnly: true, unitsKept: true, mapping: new Mapping() }
  let { a: toA, b: toB } = a.content.findDiffEnd(b.content)
  const overlap = from - Math.min(toA, toB)
  if (overlap > 0) { toA += overlap; toB += overlap }
  const mapping = new Mapping([new StepMap([from, toA - from, toB - from])])
  const $a = a.resolve(from)
  const $b = b.resolve(from)
  // Inside one text block in both documents: no unit, label or outline entry can differ.
  const textOnly = $a.parent.isTextblock && $b.parent.isTextblock && toA <= $a.end() && toB <= $b.end()
  let unitsKept = textOnly
  if (!textOnly) {
    // Inside one unit, with no unit among what was removed or inserted (Enter, a pasted
    // paragraph), and the block that carries the unit's label left where it was.
    const d = innermostUnitDepth($a, toA)
    if (d > 0 && d === innermostUnitDepth($b, toB) && $a.before(d) === $b.before(d)) {
      const pos = $a.before(d)
      const ua = $a.node(d)
      const ub = $b.node(d)
      const firstA = ua.firstChild
      const firstB = ub.firstChild
      const labelHostKept = !!firstA && !!firstB && firstA.isTextblock === firstB.isTextblock &&
        from >= pos + (firstA.isTextblock ? 2 : 1)
      unitsKept = labelHostKept && !unitInside(a, from, toA, pos) && !unitInside(b, from, toB, pos)
    }
  }
  return { from, toA, toB, textOnly, unitsKept, mapping }
}

const changeCache = new WeakMap()

/**
 * How `newDoc` differs from `oldDoc`, found by comparing the two trees (unchanged nodes are
 * shared, by ProseMirror's transforms as by y-prosemirror's remote updates, so this visits only
 * the path to the change): null when they are the same object, else
 * `{from, toA, toB, mapping, textOnly, unitsKept}`: the changed range (`from` null when only node
 * identities differ), a Mapping from old to new positions, whether the change stays inside one
 * text block, and whether the unit tree (kinds, attributes, order, the blocks that carry the
 * labels) is unchanged, so that labels, numbers and the outline's entries are.
 */
export function docChange (oldDoc, newDoc) {
  if (oldDoc === newDoc) return null
  const hit = changeCache.get(newDoc)
  if (hit && hit.oldDoc === oldDoc) return hit.change
  const change = computeChange(oldDoc, newDoc)
  changeCache.set(newDoc, { oldDoc, change })
  return change
}

// The text blocks of `doc` that a change touched ({node, pos}).
export function changedTextblocks (doc, change) {
  if (change.from === null) return []
  const out = []
  const size = doc.content.size
  const from = Math.max(0, Math.min(change.from, size))
  const to = Math.max(from, Math.min(change.toB, size))
  const $from = doc.resolve(from)
  if ($from.parent.isTextblock && to <= $from.end()) return [{ node: $from.parent, pos: $from.before() }]
  doc.nodesBetween(Math.max(0, from - 1), Math.min(size, to + 1), (node, pos) => {
    if (node.isTextblock) { out.push({ node, pos }); return false }
    return true
  })
  return out
}

/**
 * `old` (a DecorationSet already mapped onto `doc`) changed to hold exactly `decos`, keeping every
 * decoration, and every part of the set's tree, that stays: decorations are the same when their
 * range and `spec.key` are. The view compares the sets it keeps by identity first, so a set built
 * anew (equal, not identical) would cost a deep comparison of the whole document at every key.
 */
export function reconcileDecorations (old, doc, decos) {
  const key = d => d.from + ':' + d.to + ':' + (d.spec.key || '')
  const have = new Map()
  for (const d of old.find()) have.set(key(d), d)
  const add = []
  for (const d of decos) {
    const k = key(d)
    if (have.has(k)) have.delete(k)
    else add.push(d)
  }
  // Mostly new (the first document arrived): faster in one go, and there is little to keep.
  if (add.length > decos.length / 2) return DecorationSet.create(doc, decos)
  const set = have.size ? old.remove([...have.values()]) : old
  return add.length ? set.add(doc, add) : set
}

// --- labels ------------------------------------------------------------------------------------------

const labelCache = new WeakMap()
let lastLabelled = null // {doc, key, list}: the list an incremental update starts from

function optsKey (opts) {
  const text = value => typeof value === 'string' ? value : JSON.stringify(value || null)
  return (opts.language || '') + '|' + text(opts.numbering) + '|' + text(opts.labels)
}

// The previous list moved onto `doc` after a change that kept the unit tree: units before the
// change keep their entry, those after it move by the change's size, those around it take their
// new node. Labels and numbers are the same.
function shiftLabelled (list, doc, change) {
  if (change.from === null) return null
  const delta = change.toB - change.toA
  return list.map(u => {
    if (u.pos + u.node.nodeSize <= change.from) return u
    if (u.pos >= change.toA) return { node: u.node, pos: u.pos + delta, depth: u.depth, num: u.num, label: u.label }
    return { node: doc.nodeAt(u.pos), pos: u.pos, depth: u.depth, num: u.num, label: u.label }
  })
}

// Returns array aligned with collectUnits(doc): [{node, pos, depth, num, label}]. After a change
// that kept the unit tree, the previous document's list is moved instead of numbering again.
export function labelledUnits (doc, opts) {
  const key = optsKey(opts)
  const cached = labelCache.get(doc)
  if (cached && cached.key === key) return cached.list
  let list = null
  if (lastLabelled && lastLabelled.key === key) {
    const change = docChange(lastLabelled.doc, doc)
    if (change && change.unitsKept) list = shiftLabelled(lastLabelled.list, doc, change)
  }
  if (!list) {
    const units = collectUnits(doc)
    const numbers = numbered(doc, units, opts)
    list = units.map((u, i) => Object.assign(u, { num: numbers[i].num, label: numbers[i].label }))
  }
  labelCache.set(doc, { key, list })
  lastLabelled = { doc, key, list }
  return list
}

// The entry of `list` (labelledUnits) for the unit at `pos`, by binary search, or undefined.
export function unitAtPos (list, pos) {
  let lo = 0
  let hi = list.length - 1
  while (lo <= hi) {
    const mid = (lo + hi) >> 1
    const at = list[mid].pos
    if (at === pos) return list[mid]
    if (at < pos) lo = mid + 1
    else hi = mid - 1
  }
  return undefined
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

// --- decorations drawn after the text ---------------------------------------------------------

/**
 * For a plugin whose decorations the first display can do without (drag handles, the references'
 * titles): `pending()` is true until they are first shown; `view()` (the plugin's view) asks for
 * that, once the document has units, after the frame that shows the text, with a transaction
 * that has `key`'s meta set to "show" (`shows(tr)`). Until then the plugin builds nothing, and
 * the text's first display does not wait for it.
 */
export function firstShowLater (key) {
  let pending = true
  let asked = false
  const ask = (view) => {
    if (asked || !view.state.doc.firstChild || !collectUnitsExist(view.state.doc)) return
    asked = true
    showLater(view, key)
  }
  return {
    pending: () => pending,
    shows: (tr) => {
      if (pending && tr.getMeta(key) === 'show') { pending = false; return true }
      return false
    },
    view: (view) => {
      ask(view)
      return { update: (v) => { if (pending) ask(v) } }
    }
  }
}

// The plugins that asked, per view: shown together, in one transaction (one view update).
const toShow = new WeakMap()

function showLater (view, key) {
  let keys = toShow.get(view)
  if (keys) { keys.push(key); return }
  keys = [key]
  toShow.set(view, keys)
  const show = () => {
    toShow.delete(view)
    if (view.isDestroyed) return
    const tr = view.state.tr.setMeta('addToHistory', false)
    for (const k of keys) tr.setMeta(k, 'show')
    view.dispatch(tr)
  }
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => setTimeout(show, 0))
  else setTimeout(show, 0)
}

function collectUnitsExist (doc) {
  let found = false
  doc.forEach(child => { if (!found && isUnitType(child.type)) found = true })
  return found
}
