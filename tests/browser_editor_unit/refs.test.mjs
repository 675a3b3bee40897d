// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
// Cross-references in the editor: the hover names the target's current label, and a reference
// whose words cite an old number (its article was renumbered) is flagged.
import test from 'node:test'
import assert from 'node:assert/strict'
import { schema } from '../../web/src/schema.js'
import { strings } from '../../web/src/i18n.js'
const { EditorState } = await import(new URL('../../web/node_modules/prosemirror-state/dist/index.js', import.meta.url))
const { refsPlugin, refsPluginKey, citesCurrentNumber } = await import('../../web/src/refs.js')

const s = schema
const G = (n) => '00000000-0000-4000-8000-' + String(n).padStart(12, '0')
const h = (t) => s.nodes.heading.create(null, s.text(t))
const article = (guid, ...content) => s.nodes.article.create({ guid }, content)
const ref = (text, guid) => s.text(text, [s.marks.ref.create({ guid })])

function decorations (doc) {
  const state = EditorState.create({ doc, plugins: [refsPlugin(() => ({ language: 'spa', numbering: null }), strings('en'))] })
  return refsPluginKey.getState(state).find().map(d => ({ text: doc.textBetween(d.from, d.to), ...d.type.attrs }))
}

test('a reference names its target and is flagged once its words cite an old number', () => {
  const p = s.nodes.p.create(null, [s.text('véase el '), ref('artículo 2', G(2)), s.text(' y el '), ref('artículo 2', G(3)),
    s.text(' y el '), ref('artículo 9', G(9))])
  const doc = s.nodes.doc.create(null, [article(G(1), h('Uno'), p), article(G(2), h('Dos')), article(G(3), h('Tres'))])
  assert.deepEqual(decorations(doc), [
    { text: 'artículo 2', title: 'Refers to Artículo 2' },
    { text: 'artículo 2', class: 'ref-stale', title: 'Refers to Artículo 3, but its words cite another number: use “Link references” to update them' },
    { text: 'artículo 9', class: 'ref-missing', title: 'The unit this reference points to no longer exists' }
  ])
})

test('bold and italic are marks of paragraphs and headings', () => {
  const p = s.nodes.p.create(null, [s.text('a', [s.marks.b.create(), s.marks.i.create()])])
  assert.equal(p.firstChild.marks.map(m => m.type.name).join(','), 'b,i')
  assert.ok(s.nodes.heading.allowsMarkType(s.marks.ref))
  assert.ok(citesCurrentNumber('Art. 16 Bis, apartado A', ['16 Bis', 'A']))
  assert.ok(!citesCurrentNumber('artículo 16', ['17']))
})
