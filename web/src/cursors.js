// Remote carets and selections drawn without inserting DOM into the text: the caret is an
// inline decoration on the neighbouring character (or a node decoration on an empty block),
// so the document's innerText stays identical for everyone. y-prosemirror's yCursorPlugin
// still publishes the local cursor into awareness; its own drawing is disabled (filter).
import { Plugin, PluginKey } from 'prosemirror-state'
import { Decoration, DecorationSet } from 'prosemirror-view'
import * as Y from 'yjs'
import { ySyncPluginKey, yCursorPluginKey, relativePositionToAbsolutePosition } from 'y-prosemirror'
import { normColor, colorClass } from './colors.js'

export const remoteCursorsKey = new PluginKey('constituent-remote-cursors')

function build (state, awareness) {
  const ystate = ySyncPluginKey.getState(state)
  if (!ystate || !ystate.binding || ystate.binding.mapping.size === 0) return DecorationSet.empty
  const ydoc = ystate.doc
  const decos = []
  const max = state.doc.content.size
  awareness.getStates().forEach((aw, clientId) => {
    if (clientId === ydoc.clientID || !aw || !aw.cursor) return
    const user = aw.user || {}
    const color = normColor(user.color)
    const name = String(user.name || '')
    let anchor, head
    try {
      anchor = relativePositionToAbsolutePosition(ydoc, ystate.type, Y.createRelativePositionFromJSON(aw.cursor.anchor), ystate.binding.mapping)
      head = relativePositionToAbsolutePosition(ydoc, ystate.type, Y.createRelativePositionFromJSON(aw.cursor.head), ystate.binding.mapping)
    } catch (e) { return }
    if (anchor === null || head === null) return
    anchor = Math.max(0, Math.min(anchor, max))
    head = Math.max(0, Math.min(head, max))
    const cc = colorClass(color)
    const from = Math.min(anchor, head)
    const to = Math.max(anchor, head)
    if (from < to) decos.push(Decoration.inline(from, to, { class: 'ProseMirror-yjs-selection ' + cc.sel }, { inclusiveEnd: true }))
    const $head = state.doc.resolve(head)
    if (!$head.parent.isTextblock) return
    const attrs = { 'data-name': name, 'data-client': String(clientId) }
    if ($head.parentOffset > 0) {
      decos.push(Decoration.inline(head - 1, head, Object.assign({ class: 'ProseMirror-yjs-cursor yc-caret yc-caret-after ' + cc.caret }, attrs)))
    } else if ($head.parent.content.size > 0) {
      decos.push(Decoration.inline(head, head + 1, Object.assign({ class: 'ProseMirror-yjs-cursor yc-caret yc-caret-before ' + cc.caret }, attrs)))
    } else {
      const start = $head.before()
      decos.push(Decoration.node(start, start + $head.parent.nodeSize, Object.assign({ class: 'ProseMirror-yjs-cursor yc-caret yc-caret-empty ' + cc.caret }, attrs)))
    }
  })
  return DecorationSet.create(state.doc, decos)
}

export function remoteCursorsPlugin (awareness) {
  return new Plugin({
    key: remoteCursorsKey,
    state: {
      init: (_, state) => build(state, awareness),
      apply (tr, old, _oldState, newState) {
        const ystate = ySyncPluginKey.getState(newState)
        const cur = tr.getMeta(yCursorPluginKey)
        if ((ystate && ystate.isChangeOrigin) || (cur && cur.awarenessUpdated) || tr.getMeta(remoteCursorsKey)) return build(newState, awareness)
        return old.map(tr.mapping, tr.doc)
      }
    },
    props: {
      decorations (state) { return remoteCursorsKey.getState(state) }
    }
  })
}
