// Cross-references in the editor (docs/document-model.md, "Inline markup"): each `ref` mark
// names its target's current label on hover, is flagged when its words no longer cite that
// number (the article was renumbered: "Link references" updates them), and when its unit is gone.
import { Plugin, PluginKey } from 'prosemirror-state'
import { Decoration, DecorationSet } from 'prosemirror-view'
import { labelledUnits } from './units.js'

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

// Each stretch of text under one ref mark in a text block: {from, to, text, mark}.
function refRanges (doc) {
  const out = []
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true
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
    return false
  })
  return out
}

function build (doc, opts, t) {
  const ranges = refRanges(doc)
  if (!ranges.length) return DecorationSet.empty
  const targets = targetLabels(doc, opts)
  const decos = []
  for (const { from, to, text, mark } of ranges) {
    if (!mark.attrs.guid) {
      if (mark.attrs.href) decos.push(Decoration.inline(from, to, { title: t.refExternal(mark.attrs.href) }))
      continue
    }
    const target = targets.get(mark.attrs.guid)
    if (!target) {
      decos.push(Decoration.inline(from, to, { class: 'ref-missing', title: t.refMissing }))
    } else if (!citesCurrentNumber(text, target.nums)) {
      decos.push(Decoration.inline(from, to, { class: 'ref-stale', title: t.refStale(target.label) }))
    } else {
      decos.push(Decoration.inline(from, to, { title: t.refTo(target.label) }))
    }
  }
  return DecorationSet.create(doc, decos)
}

export function refsPlugin (getOpts, t) {
  return new Plugin({
    key: refsPluginKey,
    state: {
      init: (_, state) => build(state.doc, getOpts(), t),
      apply: (tr, old, oldState, newState) => tr.docChanged ? build(newState.doc, getOpts(), t) : old
    },
    props: {
      decorations (state) { return refsPluginKey.getState(state) }
    }
  })
}
