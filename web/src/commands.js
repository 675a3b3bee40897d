// Structural editing commands over legal units.
import { TextSelection, NodeSelection, Selection } from 'prosemirror-state'
import { Fragment } from 'prosemirror-model'
import { isUnitType, RANK, CHILD_KINDS, TOP_KINDS, HEADING_REQUIRED } from './schema.js'

// The innermost unit containing the selection: {pos, node, parent, parentPos, index}
export function currentUnit (state) {
  const sel = state.selection
  if (sel instanceof NodeSelection && isUnitType(sel.node.type)) {
    const $p = sel.$from
    return { pos: sel.from, node: sel.node, parent: $p.parent, parentPos: $p.depth ? $p.before() : -1, index: $p.index(), depth: $p.depth + 1 }
  }
  const $p = sel.$from
  for (let d = $p.depth; d > 0; d--) {
    const node = $p.node(d)
    if (isUnitType(node.type)) {
      return { pos: $p.before(d), node, parent: $p.node(d - 1), parentPos: d > 1 ? $p.before(d - 1) : -1, index: $p.index(d - 1), depth: d }
    }
  }
  return null
}

function allowedIn (parentNode) {
  if (parentNode.type.name === 'doc') return TOP_KINDS
  return CHILD_KINDS[parentNode.type.name] || []
}

// Pick the kind a unit of `kind` becomes inside a parent allowing `allowed`, going down.
function kindDown (kind, allowed) {
  if (allowed.includes(kind)) return kind
  const r = RANK[kind]
  const lower = allowed.filter(k => RANK[k] > r).sort((a, b) => RANK[a] - RANK[b])
  if (lower.length) return lower[0]
  const higher = allowed.filter(k => RANK[k] < r).sort((a, b) => RANK[b] - RANK[a])
  return higher.length ? higher[0] : null
}

// Rebuild `node` as a unit of `kind`, converting child units so the result is valid.
// Returns null when impossible.
export function convertUnit (schema, node, kind, extraChildren = []) {
  const type = schema.nodes[kind]
  const allowed = CHILD_KINDS[kind] || []
  const blocks = []
  const units = []
  node.forEach(child => { (isUnitType(child.type) ? units : blocks).push(child) })
  for (const extra of extraChildren) units.push(extra)
  if (HEADING_REQUIRED.has(kind) && !(blocks.length && blocks[0].type.name === 'heading')) {
    blocks.unshift(schema.nodes.heading.create())
  }
  const converted = []
  for (const u of units) {
    const k = kindDown(u.type.name, allowed)
    if (!k) return null
    const c = k === u.type.name ? u : convertUnit(schema, u, k)
    if (!c) return null
    converted.push(c)
  }
  const content = Fragment.fromArray(blocks.concat(converted))
  if (!type.validContent(content)) return null
  return type.create(Object.assign({}, node.attrs), content)
}

function selectInside (tr, unitPos, offset) {
  const max = tr.doc.content.size
  const target = Math.max(0, Math.min(max, unitPos + offset))
  tr.setSelection(Selection.near(tr.doc.resolve(target), 1))
  return tr
}

function cursorOffset (state, unit) {
  return Math.max(1, state.selection.from - unit.pos)
}

// Tab: become the last child of the previous sibling unit.
export function sinkUnit (state, dispatch) {
  const u = currentUnit(state)
  if (!u || u.index === 0) return false
  const prev = u.parent.child(u.index - 1)
  if (!isUnitType(prev.type)) return false
  const allowed = CHILD_KINDS[prev.type.name] || []
  const r = RANK[u.node.type.name]
  if (r === undefined) return false
  const kinds = allowed.filter(k => RANK[k] >= r).sort((a, b) => RANK[a] - RANK[b])
  if (!kinds.length) return false
  const moved = convertUnit(state.schema, u.node, kinds[0])
  if (!moved) return false
  const newPrev = prev.type.create(prev.attrs, prev.content.append(Fragment.from(moved)))
  if (!prev.type.validContent(newPrev.content)) return false
  if (dispatch) {
    const prevPos = u.pos - prev.nodeSize
    const offset = cursorOffset(state, u) + (moved.childCount && moved.firstChild !== u.node.firstChild && moved.firstChild.type.name === 'heading' && u.node.firstChild?.type.name !== 'heading' ? 2 : 0)
    const tr = state.tr.replaceWith(prevPos, u.pos + u.node.nodeSize, newPrev)
    const movedPos = prevPos + newPrev.nodeSize - 1 - moved.nodeSize
    dispatch(selectInside(tr, movedPos, offset).scrollIntoView())
  }
  return true
}

// Shift-Tab: become the next sibling of the parent unit; later siblings become its children.
export function liftUnit (state, dispatch) {
  const u = currentUnit(state)
  if (!u || u.parentPos < 0 || !isUnitType(u.parent.type)) return false
  const parent = u.parent
  const $parent = state.doc.resolve(u.parentPos)
  const grand = $parent.parent
  const allowedG = allowedIn(grand)
  let kind = allowedG.includes(parent.type.name) && RANK[parent.type.name] <= RANK[u.node.type.name] ? parent.type.name : null
  if (!kind) {
    const r = RANK[u.node.type.name]
    const cands = allowedG.filter(k => RANK[k] <= r).sort((a, b) => RANK[b] - RANK[a])
    kind = cands[0] || null
  }
  if (!kind) return false
  const later = []
  for (let i = u.index + 1; i < parent.childCount; i++) later.push(parent.child(i))
  let lifted = convertUnit(state.schema, u.node, kind, later)
  let adopt = true
  if (!lifted) { adopt = false; lifted = convertUnit(state.schema, u.node, kind) }
  if (!lifted) return false
  const keep = []
  for (let i = 0; i < u.index; i++) keep.push(parent.child(i))
  if (!adopt) for (const n of later) keep.push(n)
  const newParentContent = Fragment.fromArray(keep)
  if (!parent.type.validContent(newParentContent)) return false
  const newParent = parent.type.create(parent.attrs, newParentContent)
  const gIndex = $parent.index()
  const replacement = Fragment.from([newParent, lifted])
  if (!grand.canReplace(gIndex, gIndex + 1, replacement)) return false
  if (dispatch) {
    const headingAdded = lifted.firstChild && lifted.firstChild.type.name === 'heading' && u.node.firstChild?.type.name !== 'heading'
    const offset = cursorOffset(state, u) + (headingAdded ? 2 : 0)
    const tr = state.tr.replaceWith(u.parentPos, u.parentPos + parent.nodeSize, replacement)
    dispatch(selectInside(tr, u.parentPos + newParent.nodeSize, offset).scrollIntoView())
  }
  return true
}

function moveUnit (dir) {
  return (state, dispatch) => {
    const u = currentUnit(state)
    if (!u) return false
    const otherIndex = u.index + dir
    if (otherIndex < 0 || otherIndex >= u.parent.childCount) return false
    const other = u.parent.child(otherIndex)
    if (!isUnitType(other.type) || other.type.name === 'preamble' || u.node.type.name === 'preamble') return false
    if (dispatch) {
      const offset = cursorOffset(state, u)
      let tr
      if (dir < 0) {
        const start = u.pos - other.nodeSize
        tr = state.tr.replaceWith(start, u.pos + u.node.nodeSize, Fragment.from([u.node, other]))
        selectInside(tr, start, offset)
      } else {
        const end = u.pos + u.node.nodeSize + other.nodeSize
        tr = state.tr.replaceWith(u.pos, end, Fragment.from([other, u.node]))
        selectInside(tr, u.pos + other.nodeSize, offset)
      }
      dispatch(tr.scrollIntoView())
    }
    return true
  }
}
export const moveUnitUp = moveUnit(-1)
export const moveUnitDown = moveUnit(1)

export function deleteUnit (state, dispatch) {
  const u = currentUnit(state)
  if (!u) return false
  if (!u.parent.canReplace(u.index, u.index + 1)) return false
  if (dispatch) {
    const tr = state.tr.delete(u.pos, u.pos + u.node.nodeSize)
    const $p = tr.doc.resolve(Math.min(u.pos, tr.doc.content.size))
    tr.setSelection(Selection.near($p, -1))
    dispatch(tr.scrollIntoView())
  }
  return true
}

// Mod-Enter: insert a new sibling unit of the same kind right after the current unit, splitting
// at the cursor. In a heading, the heading text after the cursor becomes the new unit's heading.
// In a p, the text after the cursor and everything after it in the unit move to the new unit
// (when nothing follows the cursor, the new unit is simply empty and the children stay).
// The new unit gets a fresh GUID from the GUID plugin; the original keeps its own.
export function splitUnit (state, dispatch) {
  const sel = state.selection
  if (!(sel instanceof TextSelection)) return false
  const $from = sel.$from
  const $to = sel.$to
  if (!$from.parent.isTextblock) return false
  const d = $from.depth - 1
  const unit = $from.node(d)
  if (!isUnitType(unit.type) || unit.type.name === 'preamble') return false
  if ($to.depth !== $from.depth || $to.before() !== $from.before()) return false
  const schema = state.schema
  const block = $from.parent
  const blockIndex = $from.index(d)
  const tail = block.content.cut($to.parentOffset)
  const unitPos = $from.before(d)
  const unitEnd = unitPos + unit.nodeSize
  const parent = $from.node(d - 1)
  const index = $from.index(d - 1)
  if (!parent.canReplaceWith(index + 1, index + 1, unit.type)) return false
  const kind = unit.type.name
  const needsP = kind !== 'title' && kind !== 'chapter' && kind !== 'crossHeading' // a cross-heading is its heading alone
  let blocks
  let deleteFrom = $from.pos
  let deleteTo = $to.pos
  let cursorInner // offset of the cursor from the new unit's start
  if (block.type.name === 'heading') {
    blocks = [schema.nodes.heading.create(null, tail)]
    if (needsP) blocks.push(schema.nodes.p.create())
    deleteTo = $from.end()
    cursorInner = 2
  } else {
    const following = []
    for (let i = blockIndex + 1; i < unit.childCount; i++) following.push(unit.child(i))
    const textFollows = tail.size > 0 || following.some(n => n.isTextblock)
    blocks = []
    if (HEADING_REQUIRED.has(kind)) blocks.push(schema.nodes.heading.create())
    if (textFollows) {
      blocks.push(schema.nodes.p.create(null, tail))
      for (const n of following) blocks.push(n)
      deleteTo = $from.end(d)
      cursorInner = blocks.length > 0 && blocks[0].type.name === 'heading' && tail.size === 0 ? 2 : (HEADING_REQUIRED.has(kind) ? 4 : 2)
    } else {
      blocks.push(schema.nodes.p.create())
      cursorInner = 2
    }
  }
  const content = Fragment.fromArray(blocks)
  if (!unit.type.validContent(content)) return false
  const newUnit = unit.type.create({ guid: null, pin: null }, content)
  if (dispatch) {
    const tr = state.tr
    tr.insert(unitEnd, newUnit)
    if (deleteTo > deleteFrom) tr.delete(deleteFrom, deleteTo)
    const newPos = tr.mapping.slice(1).map(unitEnd)
    tr.setSelection(TextSelection.create(tr.doc, newPos + cursorInner))
    dispatch(tr.scrollIntoView())
  }
  return true
}

function newUnitNode (schema, kind) {
  if (kind === 'transitional') { // a group starts with its heading and its first transitory article
    return schema.nodes.transitional.create({ guid: null, pin: null }, [schema.nodes.heading.create(), newUnitNode(schema, 'article')])
  }
  const blocks = []
  if (HEADING_REQUIRED.has(kind)) blocks.push(schema.nodes.heading.create())
  // A cross-heading is its heading alone; a schedule starts with its heading and a paragraph.
  if (kind !== 'title' && kind !== 'chapter' && kind !== 'crossHeading') blocks.push(schema.nodes.p.create())
  return schema.nodes[kind].create({ guid: null, pin: null }, blocks)
}

// Insert a new unit of `kind` inside the current unit (when allowed there) or after the
// nearest ancestor where that kind is allowed.
export function insertUnit (kind) {
  return (state, dispatch) => {
    const schema = state.schema
    const type = schema.nodes[kind]
    if (!type) return false
    const $from = state.selection.$from
    let insertPos = null
    if (kind === 'transitional' || kind === 'attachment') {
      // Transitional provisions, then schedules, close the body: a group goes after the last
      // group (before any schedule), a schedule at the very end.
      const doc = state.doc
      let index = doc.childCount
      if (kind === 'transitional') while (index > 0 && doc.child(index - 1).type.name === 'attachment') index--
      if (!doc.canReplaceWith(index, index, type)) return false
      insertPos = 0
      for (let i = 0; i < index; i++) insertPos += doc.child(i).nodeSize
    }
    for (let d = $from.depth; d >= 0 && insertPos === null; d--) {
      const node = $from.node(d)
      if (node.isTextblock) continue
      let index = $from.index(d)
      const here = index < node.childCount ? node.child(index) : null
      if (here && here.isTextblock) {
        while (index < node.childCount && node.child(index).isTextblock) index++
      } else if (here && (d < $from.depth || state.selection instanceof NodeSelection)) {
        index += 1
      }
      if (node.canReplaceWith(index, index, type)) {
        let pos = d === 0 ? 0 : $from.start(d)
        for (let i = 0; i < index; i++) pos += node.child(i).nodeSize
        insertPos = pos
        break
      }
    }
    if (insertPos === null) return false
    if (dispatch) {
      const node = newUnitNode(schema, kind)
      const tr = state.tr.insert(insertPos, node)
      tr.setSelection(TextSelection.create(tr.doc, insertPos + 2))
      dispatch(tr.scrollIntoView())
    }
    return true
  }
}

export function setPin (value) {
  return (state, dispatch) => {
    const u = currentUnit(state)
    if (!u || u.node.type.name === 'preamble') return false
    if (dispatch) {
      const v = (value || '').trim()
      dispatch(state.tr.setNodeAttribute(u.pos, 'pin', v || null))
    }
    return true
  }
}

// Make a structural command its own undo step (y-prosemirror's UndoManager otherwise merges
// changes made within 500 ms).
export function ownUndoStep (command, getUndoManager) {
  return (state, dispatch, view) => {
    if (!dispatch) return command(state, dispatch, view)
    const um = getUndoManager(state)
    if (um) um.stopCapturing()
    const result = command(state, dispatch, view)
    if (um) um.stopCapturing()
    return result
  }
}
