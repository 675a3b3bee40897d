// Cross-references in the editor (docs/document-model.md, "Inline markup"): each `ref` mark
// names its target's current label on hover, is flagged when its words no longer cite that
// number (the article was renumbered: "Link references" updates them), and when its unit is gone.
import { Plugin, PluginKey } from 'prosemirror-state'
import { Decoration, DecorationSet } from 'prosemirror-view'
import { labelledUnits, docChange, changedTextblocks, firstShowLater, reconcileDecorations } from './units.js'
import { labelsPluginKey } from './labels.js'

export const refsPluginKey = new PluginKey('constituent-refs')

// Every unit's full label by GUID: from its article down ("Artículo 17 A."), else its own.
export function targetLabels (doc, opts) {
  const byGuid = new Map()
  const list = labelledUnits(doc, opts)
  const chain = []
  for (const u of list) {
    while (chain.length && chain[chain.length - 1].depth >= u.depth) chain.pop()
    chain.push(u)
    const from = chain.map(c => c.node.type.name).lastIndexOf('article')
    const shown = from >= 0 ? chain.slice(from) : [u]
    const label = shown.map(c => c.label).filter(Boolean).join(' ')
    if (u.node.attrs.guid && !byGuid.has(u.node.attrs.guid)) byGuid.set(u.node.attrs.guid, { label, nums: shown.map(c => c.num).filter(Boolean) })
  }
  return byGuid
}

const fold = s => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()

// Whether the words of a ref still cite every number of its target (a lone number counts too).
export function citesCurrentNumber (words, nums) {
  const tokens = new Set((fold(words).match(/[\p{L}\p{N}]+/gu) || []))
  return nums.every(num => fold(num).split(/\s+/).every(part => tokens.has(part)))
}

// Each stretch of text under one ref mark in the text block `node` at `pos`: {from, to, text, mark}.
function blockRefRanges (node, pos, out) {
  let current = null
  node.forEach((child, offset) => {
    const mark = child.isText ? child.marks.find(m => m.type.name === 'ref') : null
    const from = pos + 1 + offset
    if (mark && current && current.mark.eq(mark) && current.to === from) {
      current.to = from + child.nodeSize
      current.text += child.text
    } else {
      if (current) out.push(current)
      current = mark ? { from, to: from + child.nodeSize, text: child.text, mark } : null
    }
  })
  if (current) out.push(current)
  return out
}

// The same for every text block of the document.
function refRanges (doc) {
  const out = []
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true
    blockRefRanges(node, pos, out)
    return false
  })
  return out
}

function decorate (ranges, targets, t) {
  const decos = []
  // The key names what the decoration says, so that an unchanged one is kept when the set is redone.
  const inline = (from, to, attrs) => decos.push(Decoration.inline(from, to, attrs, { key: (attrs.class || '') + '|' + attrs.title }))
  for (const { from, to, text, mark } of ranges) {
    if (!mark.attrs.guid) {
      if (mark.attrs.href) inline(from, to, { title: t.refExternal(mark.attrs.href) })
      continue
    }
    const target = targets.get(mark.attrs.guid)
    if (!target) {
      inline(from, to, { class: 'ref-missing', title: t.refMissing })
    } else if (!citesCurrentNumber(text, target.nums)) {
      inline(from, to, { class: 'ref-stale', title: t.refStale(target.label) })
    } else {
      inline(from, to, { title: t.refTo(target.label) })
    }
  }
  return decos
}

// The targets' labels a set of decorations was made with (absent: none were needed), which stay
// valid while the unit tree does.
const targetsOf = new WeakMap()

function withTargets (decos, targets) {
  if (targets && decos !== DecorationSet.empty) targetsOf.set(decos, targets)
  return decos
}

// The decorations of the whole document; `old` (mapped onto `doc`) keeps what stays the same.
function build (doc, opts, t, old = DecorationSet.empty) {
  const ranges = refRanges(doc)
  if (!ranges.length) return DecorationSet.empty
  const targets = targetLabels(doc, opts)
  return withTargets(reconcileDecorations(old, doc, decorate(ranges, targets, t)), targets)
}

// After a change that kept the unit tree: the previous set mapped, and the text blocks the change
// touched decorated again.
function update (old, doc, change, opts, t) {
  let decos = old.map(change.mapping, doc)
  let targets = targetsOf.get(old) || null
  for (const { node, pos } of changedTextblocks(doc, change)) {
    const stale = decos.find(pos, pos + node.nodeSize)
    if (stale.length) decos = decos.remove(stale)
    const ranges = blockRefRanges(node, pos, [])
    if (!ranges.length) continue
    if (!targets) targets = targetLabels(doc, opts)
    decos = decos.add(doc, decorate(ranges, targets, t))
  }
  return withTargets(decos, targets)
}

// `later`: the references' titles and marks are first drawn after the frame that shows the text
// (the editor: on a whole constitution they would delay it), then kept up to date as before.
export function refsPlugin (getOpts, t, { later = false } = {}) {
  const deferred = later ? firstShowLater(refsPluginKey) : null
  return new Plugin({
    key: refsPluginKey,
    view: deferred ? deferred.view : undefined,
    state: {
      init: (_, state) => deferred ? DecorationSet.empty : build(state.doc, getOpts(), t),
      apply: (tr, old, oldState, newState) => {
        if (deferred) {
          if (deferred.shows(tr)) return build(newState.doc, getOpts(), t)
          if (deferred.pending()) return old
        }
        const forced = tr.getMeta(labelsPluginKey) // the numbering changed
        if (!forced && !tr.docChanged) return old
        const change = tr.docChanged ? docChange(oldState.doc, newState.doc) : null
        if (!forced && !change) return old
        if (!forced && change.unitsKept) return change.from === null ? old : update(old, newState.doc, change, getOpts(), t)
        const mapped = change && change.from !== null ? old.map(change.mapping, newState.doc) : old
        return build(newState.doc, getOpts(), t, mapped)
      }
    },
    props: {
      decorations (state) { return refsPluginKey.getState(state) }
    }
  })
}
