// GUID plugin: every unit carries a unique UUID4 in its `guid` attribute.
import { Plugin, PluginKey } from 'prosemirror-state'
import { Mapping } from 'prosemirror-transform'
import { Slice, Fragment } from 'prosemirror-model'
import { ySyncPluginKey } from 'y-prosemirror'
import { isUnitType } from './schema.js'
import { docChange } from './units.js'

export const guidPluginKey = new PluginKey('constituent-guid')

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
const ANY_UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function freshGuid () {
  if (typeof crypto !== 'undefined' && crypto.randomUUID) return crypto.randomUUID()
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, x => x.toString(16).padStart(2, '0')).join('')
  return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20)
}

// Server-repaired GUIDs are UUID5s: accept any canonical lower-case UUID as valid.
export function validGuid (g) {
  return typeof g === 'string' && (UUID_RE.test(g) || ANY_UUID_RE.test(g))
}

function unitPositions (doc) {
  const list = []
  doc.descendants((node, pos) => {
    if (isUnitType(node.type)) { list.push({ node, pos }); return true }
    return !node.isTextblock
  })
  return list
}

// Compute the fixes needed in `doc`. `keepPos(guid)` may return the position of the occurrence
// that must keep a duplicated guid (or undefined: the first in document order keeps it).
export function guidFixes (doc, keepPos) {
  const units = unitPositions(doc)
  const byGuid = new Map()
  const fixes = []
  for (const u of units) {
    const g = u.node.attrs.guid
    if (!validGuid(g)) { fixes.push(u.pos); continue }
    if (!byGuid.has(g)) byGuid.set(g, [])
    byGuid.get(g).push(u.pos)
  }
  for (const [g, positions] of byGuid) {
    if (positions.length < 2) continue
    let keep = keepPos ? keepPos(g) : undefined
    if (!positions.includes(keep)) keep = positions[0]
    for (const p of positions) if (p !== keep) fixes.push(p)
  }
  return fixes
}

function applyFixes (tr, fixes) {
  for (const pos of fixes) tr.setNodeAttribute(pos, 'guid', freshGuid())
  return tr
}

function isRemote (tr) {
  const meta = tr.getMeta(ySyncPluginKey)
  return !!(meta && meta.isChangeOrigin)
}

function clearGuids (fragment) {
  const nodes = []
  fragment.forEach(node => {
    if (node.isText) { nodes.push(node); return }
    const content = clearGuids(node.content)
    const attrs = isUnitType(node.type) ? Object.assign({}, node.attrs, { guid: null }) : node.attrs
    nodes.push(node.type.create(attrs, content, node.marks))
  })
  return Fragment.fromArray(nodes)
}

export function guidPlugin ({ remoteDelay = 2500 } = {}) {
  let timer = null
  const clean = new WeakSet() // documents checked and found without missing or repeated GUIDs
  return new Plugin({
    key: guidPluginKey,
    state: {
      init: () => ({ remoteChange: false }),
      apply: (tr, value) => {
        if (!tr.docChanged) return value
        const remote = isRemote(tr)
        return remote === value.remoteChange ? value : { remoteChange: remote }
      }
    },
    appendTransaction (trs, oldState, newState) {
      if (!trs.some(tr => tr.docChanged)) return null
      // Remote and undo/redo changes (from y-sync) are not repaired here: the server repairs
      // deterministically; a delayed check below fixes only what is still broken afterwards.
      if (trs.some(isRemote)) return null
      // A document found without fixes stays so while no unit is added or changed (typing).
      const change = docChange(oldState.doc, newState.doc)
      if (clean.has(oldState.doc) && (!change || change.unitsKept)) { clean.add(newState.doc); return null }
      const mapping = new Mapping()
      for (const tr of trs) mapping.appendMapping(tr.mapping)
      const oldPosOf = new Map()
      const fixes = guidFixes(newState.doc, g => {
        if (!oldPosOf.size) {
          oldState.doc.descendants((node, pos) => {
            if (isUnitType(node.type)) {
              if (validGuid(node.attrs.guid) && !oldPosOf.has(node.attrs.guid)) {
                const r = mapping.mapResult(pos, 1)
                oldPosOf.set(node.attrs.guid, r.deleted ? -1 : r.pos)
              }
              return true
            }
            return !node.isTextblock
          })
          if (!oldPosOf.size) oldPosOf.set('', -1)
        }
        return oldPosOf.get(g)
      })
      if (!fixes.length) { clean.add(newState.doc); return null }
      return applyFixes(newState.tr, fixes).setMeta('addToHistory', true)
    },
    view (view) {
      const check = () => {
        timer = null
        if (!view.editable) return
        const fixes = guidFixes(view.state.doc)
        if (fixes.length) view.dispatch(applyFixes(view.state.tr, fixes).setMeta('addToHistory', false))
      }
      return {
        update (view, prevState) {
          if (view.state.doc === prevState.doc) return
          if (!guidPluginKey.getState(view.state).remoteChange) return
          const change = docChange(prevState.doc, view.state.doc)
          if (clean.has(prevState.doc) && (!change || change.unitsKept)) { clean.add(view.state.doc); return }
          if (timer === null) {
            if (guidFixes(view.state.doc).length) timer = setTimeout(check, remoteDelay + Math.floor(Math.random() * 1000))
            else clean.add(view.state.doc)
          }
        },
        destroy () { if (timer) clearTimeout(timer) }
      }
    },
    props: {
      transformPasted (slice, view) {
        // A unit moved by dragging inside the editor keeps its identity; copies get fresh GUIDs.
        if (view.dragging && view.dragging.move) return slice
        return new Slice(clearGuids(slice.content), slice.openStart, slice.openEnd)
      }
    }
  })
}
