// Constituent browser editor: mounts into #constituent-editor.
import * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { EditorState, Plugin, PluginKey } from 'prosemirror-state'
import { EditorView } from 'prosemirror-view'
import { keymap } from 'prosemirror-keymap'
import { baseKeymap, chainCommands, createParagraphNear, splitBlock, toggleMark } from 'prosemirror-commands'
import { dropCursor } from 'prosemirror-dropcursor'
import { gapCursor } from 'prosemirror-gapcursor'
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, yUndoPluginKey, undo, redo } from 'y-prosemirror'
import { schema } from './schema.js'
import { LiveProvider } from './provider.js'
import { whenEarlyText } from './connect.js'
import { guidPlugin } from './guid.js'
import { labelsPlugin, labelsPluginKey } from './labels.js'
import { refsPlugin } from './refs.js'
import { labelledUnits, unitAtPos } from './units.js'
import { splitUnit, sinkUnit, liftUnit, moveUnitUp, moveUnitDown, deleteUnit, ownUndoStep } from './commands.js'
import { Outline } from './outline.js'
import { Presence } from './presence.js'
import { ProvenancePanel } from './provenance.js'
import { CommentsPanel } from './comments.js'
import { PublicCommentsPanel } from './public_comments.js'
import { el } from './panel.js'
import { Toolbar } from './toolbar.js'
import { cursorBuilder, selectionBuilder, normColor } from './colors.js'
import { dragHandlePlugin } from './drag.js'
import { remoteCursorsPlugin } from './cursors.js'
import { cleanPastedHTML } from './paste.js'
import { strings } from './i18n.js'
import { isUnitType } from './schema.js'
import { suggestTransaction, suggestionsPlugin } from './suggest.js'
import { SuggestionsPanel } from './suggestions_panel.js'

const uiKey = new PluginKey('constituent-ui')

function labelMap (doc, opts) {
  const list = labelledUnits(doc, opts) // in document order: found by binary search, not a Map of every unit
  return { get: (pos) => unitAtPos(list, pos) }
}

// {guid, label} of the innermost unit around the selection; the label names the whole path
// from the article down (e.g. "Artículo 3 A. 1."), or the innermost title/chapter.
export function unitInfo (state, opts) {
  return unitInfoAt(state, state.selection.$from, opts)
}

// The same for any resolved position (a click in a read-only view moves no selection).
export function unitInfoAt (state, $p, opts) {
  const labels = labelMap(state.doc, opts)
  const chain = []
  for (let d = 1; d <= $p.depth; d++) {
    const node = $p.node(d)
    if (isUnitType(node.type)) chain.push({ node, pos: $p.before(d) })
  }
  if (!chain.length) return null
  const inner = chain[chain.length - 1]
  const parts = []
  let seenArticle = false
  for (const c of chain) {
    const kind = c.node.type.name
    if (kind === 'article') seenArticle = true
    if (seenArticle) parts.push(labels.get(c.pos)?.label || '')
  }
  let label = parts.filter(Boolean).join(' ')
  if (!label) label = (labels.get(inner.pos)?.label) || (inner.node.type.name === 'preamble' ? opts.preambleLabel : '')
  const article = [...chain].reverse().find(c => c.node.type.name === 'article') ||
    [...chain].reverse().find(c => ['chapter', 'title', 'preamble'].includes(c.node.type.name))
  return { guid: inner.node.attrs.guid || null, label, outlineGuid: article ? article.node.attrs.guid : null, suggested: chain.some(c => !!c.node.attrs.suggestion) }
}

export function mount (root) {
  const ds = root.dataset
  const slug = ds.slug
  const uiLang = /^en/i.test(ds.lang || '') ? 'en' : 'es'
  const t = strings(uiLang)
  let role = ds.role === 'viewer' ? 'viewer' : 'editor'
  const editorEl = root.querySelector('#editor') || root
  const toolbarEl = root.querySelector('#toolbar')
  const outlineEl = root.querySelector('#outline')
  const presenceEl = root.querySelector('#presence')
  const provenanceEl = root.querySelector('#provenance')
  const commentsEl = root.querySelector('#comments') // only for those who may comment
  const statusEl = root.querySelector('#connection-status')

  const ydoc = new Y.Doc()
  const meta = ydoc.getMap('meta')
  const fragment = ydoc.getXmlFragment('body')
  const awareness = new Awareness(ydoc)
  awareness.setLocalStateField('user', { name: ds.userName || t.anonymous, color: normColor(ds.userColor) })

  const getOpts = () => {
    let language = meta.get('language')
    if (typeof language !== 'string' || !language) language = uiLang === 'en' ? 'eng' : 'spa'
    let numbering = meta.get('numbering')
    if (numbering instanceof Y.Map) numbering = numbering.toJSON()
    let labels = meta.get('labels')
    if (labels instanceof Y.Map) labels = labels.toJSON()
    return { language, numbering: numbering || null, labels: labels || null, preambleLabel: t.preamble }
  }

  // The numbering options the labels were last drawn with: when the meta changes in the same
  // transaction as the units (the document arriving), they need no second pass.
  const optsSignature = (opts) => JSON.stringify(opts)
  let labelledWith = null
  const labelOpts = () => {
    const opts = getOpts()
    labelledWith = optsSignature(opts)
    return opts
  }

  // Suggestion mode (web/src/suggest.js): chosen with the toolbar's toggle, or always on for a
  // role the stage lets only suggest (the server refuses anything else from it).
  let suggestOnly = ds.suggestOnly === 'true'
  let suggesting = suggestOnly
  const me = { id: ds.userId || '', name: ds.userName || t.anonymous }
  let suggestions = null
  const provider = new LiveProvider(slug, ydoc, { awareness, readOnly: role === 'viewer', autoConnect: false })
  let synced = false
  const editable = () => role === 'editor' && synced

  let outline = null
  let toolbar = null
  let panel = null
  const comments = commentsEl ? new CommentsPanel(commentsEl, { slug, csrf: ds.csrf, lang: uiLang, t }) : null
  // The public's comments, a separate stream beside the drafting side's (for the same readers).
  let publicComments = null
  if (commentsEl) {
    const aside = el('aside', { id: 'public-comments', class: 'public-comments-panel' })
    commentsEl.after(aside)
    publicComments = new PublicCommentsPanel(aside, { slug, lang: uiLang, t })
  }
  let lastUnitKey = null
  let following = false // the provenance panel follows the cursor once the user has pointed somewhere
  let lastFollowed // the unit last announced to the page (JSON), see follow
  const follow = (info) => {
    if (info && info.suggested) info = null // a suggested unit is not in the text yet: no panels about it
    if (panel) panel.setUnit(info ? { guid: info.guid, label: info.label } : null)
    // The unit the reader points at, for the page around the editor (the read-only notice's
    // "propose an amendment" link, web/static/workspace.js): when it changes, not at every key.
    const detail = info ? { guid: info.guid, label: info.label } : null
    const key = JSON.stringify(detail)
    if (key === lastFollowed) return
    lastFollowed = key
    root.dispatchEvent(new CustomEvent('constituent:unit', { detail }))
  }
  const structureSignature = (doc) => labelledUnits(doc, getOpts()).map(u => (u.node.attrs.guid || '') + ':' + u.label).join(',')

  let touched = false // the local user has put the cursor somewhere: report where
  const updateAwarenessUnit = (state) => {
    const info = touched ? unitInfo(state, getOpts()) : null
    if (outline) outline.setCurrent(info ? info.outlineGuid : null)
    const unit = info ? { guid: info.guid, label: info.label } : null
    if (following && info) follow(info)
    const key = JSON.stringify(unit)
    if (key !== lastUnitKey) {
      lastUnitKey = key
      awareness.setLocalStateField('unit', unit)
    }
  }

  const uiPlugin = new Plugin({
    key: uiKey,
    view: () => ({
      update: (view, prev) => {
        if (view.state.doc !== prev.doc && outline) outline.schedule()
        if (view.state.doc !== prev.doc && panel) panel.docChanged(() => structureSignature(view.state.doc))
        if (view.state.doc !== prev.doc || !view.state.selection.eq(prev.selection)) updateAwarenessUnit(view.state)
        if (toolbar) toolbar.update()
      }
    })
  })

  const getUndoManager = (state) => yUndoPluginKey.getState(state)?.undoManager || null
  const step = (cmd) => ownUndoStep(cmd, getUndoManager)

  const plugins = [
    ySyncPlugin(fragment),
    // publishes the local cursor; drawing is done by remoteCursorsPlugin
    yCursorPlugin(awareness, { awarenessStateFilter: () => false, cursorBuilder, selectionBuilder }),
    remoteCursorsPlugin(awareness),
    yUndoPlugin({ protectedNodes: new Set(['p', 'heading']) }),
    keymap({
      'Mod-z': undo,
      'Mod-Shift-z': redo,
      'Mod-y': redo,
      'Mod-Enter': step(splitUnit),
      Tab: step(sinkUnit),
      'Shift-Tab': step(liftUnit),
      'Alt-ArrowUp': step(moveUnitUp),
      'Alt-ArrowDown': step(moveUnitDown),
      'Mod-Shift-Backspace': step(deleteUnit),
      'Mod-b': toggleMark(schema.marks.b),
      'Mod-i': toggleMark(schema.marks.i),
      Enter: chainCommands(createParagraphNear, splitBlock)
    }),
    keymap(baseKeymap),
    dropCursor({ color: '#1d4ed8', width: 2 }),
    gapCursor(),
    guidPlugin(),
    labelsPlugin(labelOpts, t),
    // drawn after the frame that first shows the text (then kept up to date as before)
    refsPlugin(getOpts, t, { later: true }),
    dragHandlePlugin(t, { later: true }),
    ...(comments ? comments.plugins() : []),
    ...(publicComments ? publicComments.plugins() : []),
    suggestionsPlugin(() => suggestions),
    uiPlugin
  ]

  const state = EditorState.create({ schema, plugins })
  const view = new EditorView(editorEl, {
    state,
    editable,
    transformPastedHTML: cleanPastedHTML, // no style or handler attributes for the CSP to refuse
    dispatchTransaction (tr) {
      if (suggesting) {
        const next = suggestTransaction(this.state, tr, me)
        if (!next) { setStatus(t.sug.blocked, 'suggest-blocked'); return }
        tr = next
      }
      this.updateState(this.state.apply(tr))
    },
    attributes: {
      class: 'constituent-doc',
      'aria-label': uiLang === 'en' ? 'Document text' : 'Texto del documento',
      role: 'textbox',
      'aria-multiline': 'true',
      lang: uiLang
    }
  })

  const refreshEditable = () => {
    // Re-evaluate the editable prop and toolbar.
    view.setProps({ editable })
    if (toolbar) toolbar.update()
  }

  if (outlineEl) {
    outline = new Outline(outlineEl, view, getOpts, t)
    outline.render()
  }
  if (presenceEl) new Presence(presenceEl, awareness, t) // eslint-disable-line no-new
  if (comments) comments.attach(view, { root, provider, unitAt: ($p) => unitInfoAt(view.state, $p, getOpts()) })
  if (publicComments) publicComments.attach(view, { provider, unitAt: ($p) => unitInfoAt(view.state, $p, getOpts()) })
  if (provenanceEl) {
    panel = new ProvenancePanel(provenanceEl, { slug, csrf: ds.csrf, role, lang: uiLang, t })
    panel.listen(provider, 'provenance')
    provider.on('synced', (isSynced) => { if (isSynced) panel.docChanged(() => structureSignature(view.state.doc)) })
    const pointAt = (event) => {
      const found = view.posAtCoords({ left: event.clientX, top: event.clientY })
      if (!found) return
      following = true
      follow(unitInfoAt(view.state, view.state.doc.resolve(found.pos), getOpts()))
    }
    view.dom.addEventListener('click', pointAt)
    // The table of contents moves the selection even in a read-only view: follow it there too.
    if (outlineEl) {
      outlineEl.addEventListener('click', (event) => {
        if (!event.target.closest('button[data-guid]')) return
        following = true
        follow(unitInfo(view.state, getOpts()))
      })
    }
  }

  // "Link references": the server links the text's citations of its own units and updates the
  // words of references whose unit was renumbered; the change reaches this editor live.
  const linkReferences = async () => {
    const response = await fetch('/api/v1/documents/' + encodeURIComponent(slug) + '/references', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRFToken': ds.csrf || '', Accept: 'application/json' },
      body: '{}'
    })
    if (!response.ok) return t.refsFailed
    const done = await response.json()
    return t.refsDone(done.linked, done.updated)
  }

  const setSuggesting = (on) => {
    suggesting = !!on
    root.dataset.suggesting = suggesting ? 'true' : 'false'
    if (toolbar && toolbar.suggestButton) toolbar.suggestButton.setAttribute('aria-pressed', suggesting ? 'true' : 'false')
  }
  const suggestMode = { isOn: () => suggesting, set: setSuggesting, get locked () { return suggestOnly } }
  const showSuggestions = () => {
    if (role !== 'editor' || !ds.userId) return
    if (!suggestions) {
      const aside = el('aside', { id: 'suggestions', class: 'suggestions-panel' })
      const side = root.querySelector('.side-column')
      if (side) side.prepend(aside)
      else root.append(aside)
      suggestions = new SuggestionsPanel(aside, { slug, csrf: ds.csrf, lang: uiLang, t: t.sug, canDecide: !suggestOnly })
      suggestions.attach(view)
      provider.on('suggestion-notes', () => suggestions.notesChanged()) // a note written, here or elsewhere
    } else suggestions.setCanDecide(!suggestOnly)
  }
  setSuggesting(suggesting)

  const showToolbar = () => {
    if (!toolbarEl) return
    if (role === 'editor') {
      toolbarEl.hidden = false
      if (!toolbar) toolbar = new Toolbar(toolbarEl, view, t, step, { linkReferences, suggest: suggestMode })
    } else {
      toolbarEl.hidden = true
      toolbarEl.replaceChildren()
      toolbar = null
    }
  }
  showToolbar()
  showSuggestions()
  root.dataset.mode = role

  const setStatus = (text, state) => {
    if (!statusEl) return
    statusEl.textContent = text
    statusEl.dataset.state = state
  }
  const statusText = () => {
    switch (provider.status) {
      case 'connected': return role === 'viewer' ? [t.readOnly, 'read-only'] : [t.connected, 'connected']
      case 'connecting': return [t.connecting, 'connecting']
      case 'error': return [t.joinFailed + (provider.lastError?.message ? ': ' + provider.lastError.message : ''), 'error']
      default: return [t.offline, 'offline']
    }
  }
  const renderStatus = () => setStatus(...statusText())

  provider.on('status', renderStatus)
  provider.on('role', (r) => {
    const newRole = r // the server decides, at join and whenever the stage changes
    if (newRole !== role) {
      role = newRole
      root.dataset.mode = role
      if (panel) panel.setRole(role)
      showToolbar()
      showSuggestions()
      refreshEditable()
    }
    renderStatus()
  })
  provider.on('stage', (data) => {
    // The stage changed: whether this role may only suggest may have changed with it.
    if (typeof data?.suggest !== 'boolean' || data.suggest === suggestOnly) return
    suggestOnly = data.suggest
    setSuggesting(suggestOnly)
    if (toolbar) { toolbarEl.replaceChildren(); toolbar = null; showToolbar() }
    showSuggestions()
  })
  provider.on('error', (err) => {
    if (!err) return
    if (err.code === 'read-only') setStatus(t.readOnly + (err.message ? ' — ' + err.message : ''), 'read-only')
    else setStatus(t.error + (err.code ? ' (' + err.code + ')' : '') + (err.message ? ': ' + err.message : ''), 'error')
  })
  provider.on('synced', (isSynced) => {
    if (isSynced && !synced) {
      synced = true
      document.body.dataset.synced = 'true'
      refreshEditable()
      if (outline) outline.schedule()
    }
  })

  // Deferred: inside a Yjs observer the ProseMirror doc may not yet reflect the same
  // transaction's body changes, and dispatching then would write a stale doc back.
  let metaTimer = null
  meta.observeDeep(() => {
    if (metaTimer !== null) return
    metaTimer = setTimeout(() => {
      metaTimer = null
      if (optsSignature(getOpts()) !== labelledWith) {
        view.dispatch(view.state.tr.setMeta(labelsPluginKey, true).setMeta('addToHistory', false))
      }
      if (outline) { outline.signature = null; outline.schedule() }
      updateAwarenessUnit(view.state)
    }, 0)
  })

  view.dom.addEventListener('focus', () => {
    following = true
    if (!touched) { touched = true; updateAwarenessUnit(view.state) }
  })

  renderStatus()
  provider.connect()
  updateAwarenessUnit(view.state)

  const api = { view, ydoc, provider, awareness, schema, panel, comments, publicComments }
  window.constituent = api
  return api
}

function start () {
  const root = document.getElementById('constituent-editor')
  if (!root || window.constituent) return
  // The text has usually come already (connect.js), its message waiting for this script to end:
  // build the editor in the same task as the text, so that the page is laid out and drawn once,
  // with the text, rather than first empty and then again.
  whenEarlyText(() => { if (!window.constituent) mount(root) })
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start)
else start()
