// Suggestion mode (issue 22): a suggesting user's edits become marked suggestions, not changes.
//
// Typed text is inserted with an `ins` mark, deleted text is kept with a `del` mark (deleting your
// own suggested insertion really deletes it), and a new unit carries the attribute `suggestion`.
// Removing a whole unit marks it `removal`; moving one (Alt+arrows, dragging) marks it `removal`
// and puts a placeholder where it would go: a suggested unit with `movedFrom` (its GUID).
// y-prosemirror syncs marks as Yjs formatting attributes and unit attributes as element
// attributes: the server reads the same shapes (editor/suggestions/marks.py), decides them
// (accept / reject) and refuses, for a suggest-only role, any update that changes the accepted
// text (crdt/room.py). Anything else a suggesting user tries (splitting paragraphs, formatting) is
// not applied here, and said so.
import { Plugin, Selection, TextSelection } from 'prosemirror-state'
import { Fragment, Slice } from 'prosemirror-model'
import { ReplaceStep } from 'prosemirror-transform'
import { ySyncPluginKey } from 'y-prosemirror'
import { isUnitType } from './schema.js'
import { freshGuid } from './guid.js'

export const SUGGESTION_MARKS = ['ins', 'del']

// A suggestion's id names its author's account ("s<account>-…"): the server lets a connection that
// may only suggest make ids of its own only (crdt/suggestcheck.py id_prefix).
export function newSuggestionId (by) {
  const prefix = 's' + (by || '') + '-'
  if (typeof crypto !== 'undefined' && crypto.randomUUID) return prefix + crypto.randomUUID()
  return prefix + Date.now().toString(36) + Math.random().toString(36).slice(2, 10)
}

function markOf (node, name) {
  return node ? node.marks.find(m => m.type.name === name) || null : null
}

// The unit around `pos` that is a new unit suggested by `by`, or null. A moved unit's placeholder
// is not written in: accepting the move takes the unit as it is then, not the placeholder.
function ownSuggestedUnit (doc, pos, by) {
  const $p = doc.resolve(pos)
  for (let d = $p.depth; d > 0; d--) {
    const node = $p.node(d)
    if (isUnitType(node.type) && node.attrs.suggestion && node.attrs.suggestedBy === by && !node.attrs.movedFrom) {
      return { from: $p.before(d), to: $p.after(d) }
    }
  }
  return null
}

function insidePlaceholder (doc, pos) {
  const $p = doc.resolve(pos)
  for (let d = $p.depth; d > 0; d--) if ($p.node(d).attrs.movedFrom) return true
  return false
}

function insideOthers (doc, pos, by) {
  const $p = doc.resolve(pos)
  for (let d = $p.depth; d > 0; d--) {
    const node = $p.node(d)
    if (node.attrs.suggestion && node.attrs.suggestedBy !== by) return true
  }
  return false
}

// Withdrawing one's own move (deleting its placeholder) unmarks the unit it would have moved.
function unmarkMoved (tr, placeholder) {
  tr.doc.descendants((node, pos) => {
    if (node.attrs.guid === placeholder.attrs.movedFrom && node.attrs.removal === placeholder.attrs.suggestion) {
      tr.setNodeMarkup(pos, null, { ...node.attrs, removal: null, suggestedBy: null, suggestedName: null, suggestedAt: null })
      return false
    }
    return !node.isTextblock
  })
}

// A suggestion of this user's, under an id of theirs (one to continue with the next keystroke).
const ownId = (attrs, user) => attrs.by === user.id && String(attrs.id || '').startsWith('s' + user.id + '-')

const mine = (node, by) => !!(node.attrs.suggestion && node.attrs.suggestedBy === by)

// The accepted text of a unit, with GUIDs of its own: what a moved unit's placeholder shows.
function placeholderOf (node, schema, attrs) {
  const copy = (n, extra) => {
    if (n.isText) {
      if (markOf(n, 'ins')) return null
      return n.mark(n.marks.filter(m => !SUGGESTION_MARKS.includes(m.type.name)))
    }
    if (isUnitType(n.type) && n.attrs.suggestion && !extra) return null
    const children = []
    n.content.forEach(child => { const c = copy(child, null); if (c) children.push(c) })
    const unitAttrs = isUnitType(n.type)
      ? { ...n.attrs, guid: freshGuid(), suggestion: null, suggestedBy: null, suggestedName: null, suggestedAt: null, removal: null, movedFrom: null, ...(extra || {}) }
      : n.attrs
    return n.type.create(unitAttrs, Fragment.fromArray(children), n.marks)
  }
  return copy(node, attrs)
}

// A unit moved by `tr`: {node, pos (in state.doc), target (where it goes, in state.doc)}, or null.
// Two shapes: Alt+arrows replace two neighbours by the same two swapped (one step); dragging
// deletes the unit and inserts it elsewhere (two steps).
function movedUnit (state, tr) {
  const steps = tr.steps
  if (!steps.every(s => s instanceof ReplaceStep)) return null
  const whole = (slice) => slice.openStart === 0 && slice.openEnd === 0 && unitsOnly(slice.content)
  const guids = (fragment) => { const out = []; fragment.forEach(n => out.push(n.attrs.guid)); return out }
  if (steps.length === 1) {
    const { from, to, slice } = steps[0]
    const before = state.doc.slice(from, to)
    if (!whole(slice) || !whole(before) || slice.content.childCount !== before.content.childCount) return null
    const was = guids(before.content)
    const now = guids(slice.content)
    if (was.some(g => !g) || was.join() === now.join() || [...was].sort().join() !== [...now].sort().join()) return null
    // The unit moved is the one the selection follows.
    let moved = null
    let offset = from
    slice.content.forEach((n, _o, i) => {
      if (tr.selection.from >= offset && tr.selection.from < offset + n.nodeSize) moved = i
      offset += n.nodeSize
    })
    if (moved === null) return null
    const guid = now[moved]
    let pos = from
    let node = null
    before.content.forEach(n => { if (!node) { if (n.attrs.guid === guid) node = n; else pos += n.nodeSize } })
    // Where it goes: before the unit that follows it now (or at the end of the range).
    const next = now[moved + 1]
    let target = to
    if (next) {
      let p = from
      let found = false
      before.content.forEach(n => { if (!found) { if (n.attrs.guid === next) found = true; else p += n.nodeSize } })
      target = p
    }
    return { node, pos, target }
  }
  if (steps.length === 2) {
    const [cut, put] = steps
    if (cut.slice.size !== 0 || cut.from >= cut.to || put.from !== put.to || !whole(put.slice)) return null
    const removed = state.doc.slice(cut.from, cut.to)
    if (!whole(removed) || removed.content.childCount !== 1 || put.slice.content.childCount !== 1) return null
    const node = removed.content.firstChild
    if (!node.attrs.guid || put.slice.content.firstChild.attrs.guid !== node.attrs.guid) return null
    const target = put.from >= cut.from ? put.from + (cut.to - cut.from) : put.from
    if (target === cut.from || target === cut.to) return null
    return { node, pos: cut.from, target }
  }
  return null
}

function who (user, at) {
  return { suggestedBy: user.id, suggestedName: user.name, suggestedAt: at }
}

// A suggesting user's move: their own suggested unit simply moves; an accepted unit is marked
// where it is and a placeholder goes where it would go. Null: not possible (another's pending unit).
function suggestMove (state, moved, user, at) {
  const { node, pos, target } = moved
  // Not into a moved unit's placeholder, nor into someone else's pending unit.
  if (insidePlaceholder(state.doc, target) || insideOthers(state.doc, target, user.id)) return null
  const next = state.tr
  if (mine(node, user.id)) {
    next.insert(target, node)
    const from = next.mapping.map(pos)
    next.delete(from, from + node.nodeSize)
    const start = next.mapping.slice(1).map(target) // where it went, in the document now
    next.setSelection(Selection.near(next.doc.resolve(Math.min(start + 1, next.doc.content.size))))
    return next.scrollIntoView()
  }
  if (node.attrs.suggestion || node.attrs.removal) return null
  const id = newSuggestionId(user.id)
  next.setNodeMarkup(pos, null, { ...node.attrs, removal: id, ...who(user, at) })
  const place = next.mapping.map(target)
  next.insert(place, placeholderOf(node, state.schema, { suggestion: id, movedFrom: node.attrs.guid, ...who(user, at) }))
  next.setSelection(Selection.near(next.doc.resolve(place + 1)))
  return next.scrollIntoView()
}

// Removing whole units: one's own suggested units go (that withdraws them); accepted ones are
// marked for removal. Null if another's pending unit is among them.
function suggestRemoval (state, from, removed, user, at) {
  const next = state.tr
  const items = []
  let pos = from
  removed.content.forEach(node => { items.push({ node, pos }); pos += node.nodeSize })
  const id = newSuggestionId(user.id)
  for (const { node, pos } of items.reverse()) {
    if (mine(node, user.id)) {
      next.delete(pos, pos + node.nodeSize)
      if (node.attrs.movedFrom) unmarkMoved(next, node)
    } else if (node.attrs.suggestion) return null
    else if (!node.attrs.removal) next.setNodeMarkup(pos, null, { ...node.attrs, removal: id, ...who(user, at) })
  }
  next.setSelection(Selection.near(next.doc.resolve(Math.min(next.mapping.map(from), next.doc.content.size))))
  return next.scrollIntoView()
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
  const at = new Date().toISOString()
  const moved = movedUnit(state, tr)
  if (moved) return suggestMove(state, moved, user, at)
  if (tr.steps.length !== 1 || !(tr.steps[0] instanceof ReplaceStep)) return null
  const step = tr.steps[0]
  const { from, to, slice } = step
  const schema = state.schema
  const own = ownSuggestedUnit(state.doc, from, user.id)
  if (own && to <= own.to && !step.structure) return tr // writing one's own new unit
  if (slice.size && insidePlaceholder(state.doc, from)) return null
  // A new unit (toolbar "+ Artículo", pasted units): a structural suggestion.
  if (from === to && slice.openStart === 0 && slice.openEnd === 0 && unitsOnly(slice.content)) {
    const id = newSuggestionId(user.id)
    const nodes = []
    slice.content.forEach(node => {
      nodes.push(node.type.create({ ...node.attrs, suggestion: id, suggestedBy: user.id, suggestedName: user.name, suggestedAt: at },
        node.content, node.marks))
    })
    const next = state.tr.replace(from, to, new Slice(Fragment.fromArray(nodes), 0, 0))
    next.setSelection(Selection.fromJSON(next.doc, tr.selection.toJSON()))
    return next.scrollIntoView()
  }
  // Removing whole units.
  if (slice.size === 0 && from < to) {
    const removed = state.doc.slice(from, to)
    if (removed.openStart === 0 && removed.openEnd === 0 && unitsOnly(removed.content)) {
      return suggestRemoval(state, from, removed, user, at)
    }
  }
  if (insidePlaceholder(state.doc, from) || insidePlaceholder(state.doc, to)) return null
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
  if (before && ownId(before.attrs, user)) delAttrs = before.attrs
  else if (after && ownId(after.attrs, user)) delAttrs = after.attrs
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
    if (!delAttrs) delAttrs = { id: newSuggestionId(user.id), by: user.id, name: user.name, at }
    next.addMark(start, end, schema.marks.del.create(delAttrs))
    return false
  })
  for (const [start, end] of ownInserted.reverse()) next.delete(start, end)
  let cursor
  if (inserted.size) {
    const pos = next.mapping.map(to)
    const $pos = next.doc.resolve(pos)
    const neighbour = markOf($pos.nodeBefore, 'ins') || markOf($pos.nodeAfter, 'ins')
    let insAttrs = { id: delAttrs ? delAttrs.id : newSuggestionId(user.id), by: user.id, name: user.name, at }
    if (neighbour && ownId(neighbour.attrs, user)) insAttrs = neighbour.attrs
    next.insert(pos, marked(inserted, schema, insAttrs))
    cursor = pos + inserted.size
  } else {
    const head = state.selection.empty ? state.selection.head : null
    cursor = head === from ? next.mapping.map(to) : next.mapping.map(from, -1)
  }
  next.setSelection(TextSelection.create(next.doc, cursor))
  return next.scrollIntoView()
}

// A unit's words, its heading and paragraphs apart.
const wordsOf = (node) => node.textBetween(0, node.content.size, ' ', ' ')

// The suggestion parts in a unit (itself included), in text order: [id, kind, attrs, text, unit].
// Nodes are immutable and a change rebuilds only the units around it: the others' parts are
// remembered, so reading a whole constitution again after a keystroke reads a few units.
const partsOfUnit = new WeakMap()

function unitParts (node) {
  let parts = partsOfUnit.get(node)
  if (parts) return parts
  parts = []
  const by = { by: node.attrs.suggestedBy, name: node.attrs.suggestedName, at: node.attrs.suggestedAt }
  if (node.attrs.suggestion) {
    parts.push([node.attrs.suggestion, node.attrs.movedFrom ? 'move' : 'unit', by, wordsOf(node), node.attrs.movedFrom || node.attrs.guid])
  } else if (node.attrs.removal) {
    parts.push([node.attrs.removal, 'remove', by, wordsOf(node), node.attrs.guid])
  }
  childParts(node, node.attrs.guid, parts)
  partsOfUnit.set(node, parts)
  return parts
}

function childParts (node, unit, parts) {
  node.forEach(child => {
    if (child.isText) {
      for (const m of child.marks) {
        if (m.type.name === 'ins' && m.attrs.id) parts.push([m.attrs.id, 'insert', m.attrs, child.text, unit])
        if (m.type.name === 'del' && m.attrs.id) parts.push([m.attrs.id, 'delete', m.attrs, child.text, unit])
      }
    } else if (isUnitType(child.type)) {
      for (const part of unitParts(child)) parts.push(part)
    } else if (!child.isLeaf) {
      childParts(child, unit, parts)
    }
  })
}

/**
 * Every pending suggestion of the document, grouped by id, in text order:
 * [{id, kinds: Set, by, name, at, parts: [{kind, text}], unit}]
 */
export function suggestionsIn (doc) {
  const byId = new Map()
  const parts = []
  childParts(doc, null, parts)
  for (const [id, kind, attrs, text, unit] of parts) {
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
  // A move's unit where it is: "moves from here", not "removed".
  for (const s of byId.values()) {
    if (s.kinds.has('move')) for (const p of s.parts) if (p.kind === 'remove') p.kind = 'moveFrom'
  }
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
  const quoted = (label) => label + (part.text ? ': ' + part.text.slice(0, 80) : '')
  if (part.kind === 'unit') return { tag: 'ins', text: quoted(t.newUnit) }
  if (part.kind === 'remove') return { tag: 'del', text: quoted(t.removeUnit) }
  if (part.kind === 'moveFrom') return { tag: 'del', text: quoted(t.moveFrom) }
  if (part.kind === 'move') return { tag: 'ins', text: t.moveTo }
  return { tag: part.kind === 'delete' ? 'del' : 'ins', text: part.text }
}
