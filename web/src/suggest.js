// Suggestion mode (issue 22): a suggesting user's edits become marked suggestions, not changes.
//
// Typed text is inserted with an `ins` mark, deleted text is kept with a `del` mark (deleting your
// own suggested insertion really deletes it), and a new unit carries the attribute `suggestion`.
// y-prosemirror syncs marks as Yjs formatting attributes and unit attributes as element
// attributes: the server reads the same shapes (editor/suggestions/marks.py), decides them
// (accept / reject) and refuses, for a suggest-only role, any update that changes the accepted
// text (crdt/room.py). Anything else a suggesting user tries (splitting paragraphs, moving units,
// formatting) is not applied here, and said so.
import { Plugin, Selection, TextSelection } from 'prosemirror-state'
import { Fragment, Slice } from 'prosemirror-model'
import { ReplaceStep } from 'prosemirror-transform'
import { ySyncPluginKey } from 'y-prosemirror'
import { isUnitType } from './schema.js'

export const SUGGESTION_MARKS = ['ins', 'del']

export function newSuggestionId () {
  if (typeof crypto !== 'undefined' && crypto.randomUUID) return 's-' + crypto.randomUUID()
  return 's-' + Date.now().toString(36) + Math.random().toString(36).slice(2, 10)
}

function markOf (node, name) {
  return node ? node.marks.find(m => m.type.name === name) || null : null
}

// The unit around `pos` that is a new unit suggested by `by`, or null.
function ownSuggestedUnit (doc, pos, by) {
  const $p = doc.resolve(pos)
  for (let d = $p.depth; d > 0; d--) {
    const node = $p.node(d)
    if (isUnitType(node.type) && node.attrs.suggestion && node.attrs.suggestedBy === by) {
      return { from: $p.before(d), to: $p.after(d) }
    }
  }
  return null
}

// The inline content of a slice that replaces text inside one textblock, or null.
function inlineContent (slice) {
  if (slice.openStart !== slice.openEnd) return null
  let content = slice.content
  for (let d = slice.openStart; d > 0; d--) {
    if (content.childCount !== 1 || !content.firstChild.isTextblock) return null
    content = content.firstChild.content
  }
  let ok = true
  content.forEach(node => { if (!node.isText) ok = false })
  return ok ? content : null
}

function unitsOnly (fragment) {
  if (!fragment.childCount) return false
  let ok = true
  fragment.forEach(node => { if (!isUnitType(node.type)) ok = false })
  return ok
}

function marked (fragment, schema, attrs) {
  const nodes = []
  fragment.forEach(node => {
    const marks = node.marks.filter(m => !SUGGESTION_MARKS.includes(m.type.name))
    nodes.push(node.mark(schema.marks.ins.create(attrs).addToSet(marks)))
  })
  return Fragment.fromArray(nodes)
}

/**
 * The transaction a suggesting user's `tr` becomes: the same intent, as suggestions.
 * Returns `tr` itself when it needs no change (no change of the text, a remote change, an edit
 * inside one's own suggested unit) and null when it cannot be a suggestion (it is dropped).
 * @param {{id: string, name: string}} user
 */
export function suggestTransaction (state, tr, user) {
  if (!tr.docChanged || tr.getMeta(ySyncPluginKey) || tr.getMeta('suggestion-decided')) return tr
  if (tr.steps.length !== 1 || !(tr.steps[0] instanceof ReplaceStep)) return null
  const step = tr.steps[0]
  const { from, to, slice } = step
  const schema = state.schema
  const own = ownSuggestedUnit(state.doc, from, user.id)
  if (own && to <= own.to && !step.structure) return tr // writing one's own new unit
  const at = new Date().toISOString()
  // A new unit (toolbar "+ Artículo", pasted units): a structural suggestion.
  if (from === to && slice.openStart === 0 && slice.openEnd === 0 && unitsOnly(slice.content)) {
    const id = newSuggestionId()
    const nodes = []
    slice.content.forEach(node => {
      nodes.push(node.type.create({ ...node.attrs, suggestion: id, suggestedBy: user.id, suggestedName: user.name, suggestedAt: at },
        node.content, node.marks))
    })
    const next = state.tr.replace(from, to, new Slice(Fragment.fromArray(nodes), 0, 0))
    next.setSelection(Selection.fromJSON(next.doc, tr.selection.toJSON()))
    return next.scrollIntoView()
  }
  // Removing whole units: only one's own suggested units (that withdraws them).
  if (slice.size === 0 && from < to) {
    const removed = state.doc.slice(from, to)
    if (removed.openStart === 0 && removed.openEnd === 0 && unitsOnly(removed.content)) {
      let mine = true
      removed.content.forEach(node => { if (!(node.attrs.suggestion && node.attrs.suggestedBy === user.id)) mine = false })
      return mine ? tr : null
    }
  }
  // Text inside one textblock that takes marks.
  const $from = state.doc.resolve(from)
  const $to = state.doc.resolve(to)
  if ($from.parent !== $to.parent || !$from.parent.isTextblock || !$from.parent.type.allowsMarkType(schema.marks.ins)) return null
  const inserted = inlineContent(slice)
  if (inserted === null) return null
  const next = state.tr
  // Next to one's own suggestion, the same suggestion (same attributes: one run, one item).
  let delAttrs = null
  const before = markOf($from.nodeBefore, 'del')
  const after = markOf($to.nodeAfter, 'del')
  if (before && before.attrs.by === user.id) delAttrs = before.attrs
  else if (after && after.attrs.by === user.id) delAttrs = after.attrs
  const ownInserted = []
  state.doc.nodesBetween(from, to, (node, pos) => {
    if (!node.isText) return true
    const start = Math.max(pos, from)
    const end = Math.min(pos + node.nodeSize, to)
    const ins = markOf(node, 'ins')
    if (ins) {
      if (ins.attrs.by === user.id) ownInserted.push([start, end])
      return false // another's suggested insertion: theirs to withdraw, others' to decide
    }
    if (markOf(node, 'del')) return false
    if (!delAttrs) delAttrs = { id: newSuggestionId(), by: user.id, name: user.name, at }
    next.addMark(start, end, schema.marks.del.create(delAttrs))
    return false
  })
  for (const [start, end] of ownInserted.reverse()) next.delete(start, end)
  let cursor
  if (inserted.size) {
    const pos = next.mapping.map(to)
    const $pos = next.doc.resolve(pos)
    const neighbour = markOf($pos.nodeBefore, 'ins') || markOf($pos.nodeAfter, 'ins')
    let insAttrs = { id: delAttrs ? delAttrs.id : newSuggestionId(), by: user.id, name: user.name, at }
    if (neighbour && neighbour.attrs.by === user.id) insAttrs = neighbour.attrs
    next.insert(pos, marked(inserted, schema, insAttrs))
    cursor = pos + inserted.size
  } else {
    const head = state.selection.empty ? state.selection.head : null
    cursor = head === from ? next.mapping.map(to) : next.mapping.map(from, -1)
  }
  next.setSelection(TextSelection.create(next.doc, cursor))
  return next.scrollIntoView()
}

/**
 * Every pending suggestion of the document, grouped by id, in text order:
 * [{id, kinds: Set, by, name, at, text, unit}]
 */
export function suggestionsIn (doc) {
  const byId = new Map()
  const add = (id, kind, attrs, text, unit) => {
    let s = byId.get(id)
    if (!s) {
      s = { id, kinds: new Set(), by: attrs.by || '', name: attrs.name || '', at: attrs.at || '', parts: [], unit }
      byId.set(id, s)
    }
    s.kinds.add(kind)
    const last = s.parts[s.parts.length - 1]
    if (last && last.kind === kind) last.text += text
    else s.parts.push({ kind, text })
  }
  const walk = (node, unit) => {
    node.forEach(child => {
      if (child.isText) {
        for (const m of child.marks) {
          if (m.type.name === 'ins' && m.attrs.id) add(m.attrs.id, 'insert', m.attrs, child.text, unit)
          if (m.type.name === 'del' && m.attrs.id) add(m.attrs.id, 'delete', m.attrs, child.text, unit)
        }
        return
      }
      if (isUnitType(child.type) && child.attrs.suggestion) {
        add(child.attrs.suggestion, 'unit', { by: child.attrs.suggestedBy, name: child.attrs.suggestedName, at: child.attrs.suggestedAt },
          child.textContent, child.attrs.guid)
      }
      if (!child.isLeaf) walk(child, isUnitType(child.type) ? child.attrs.guid : unit)
    })
  }
  walk(doc, null)
  return [...byId.values()]
}

// Tells the suggestions panel (when there is one) that the text changed.
export function suggestionsPlugin (panel) {
  return new Plugin({
    view: () => ({
      update: (view, prev) => {
        const p = panel()
        if (p && view.state.doc !== prev.doc) p.schedule()
      }
    })
  })
}

// How the suggestions panel shows one part of a suggestion: {tag: 'ins' | 'del', text}.
export function describePart (part, t) {
  if (part.kind === 'unit') return { tag: 'ins', text: t.newUnit + (part.text ? ': ' + part.text.slice(0, 80) : '') }
  return { tag: part.kind === 'delete' ? 'del' : 'ins', text: part.text }
}
