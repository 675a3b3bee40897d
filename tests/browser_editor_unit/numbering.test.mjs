// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
import test from 'node:test'
import assert from 'node:assert/strict'
import { numberUnits, ordinalEs, toRoman, toAlpha, formatNumber } from '../../web/src/numbering.js'

const art = (pin, children = []) => ({ kind: 'article', pin, children })

test('ordinal words', () => {
  assert.equal(ordinalEs(1), 'PRIMERO')
  assert.equal(ordinalEs(9), 'NOVENO')
  assert.equal(ordinalEs(10), 'DÉCIMO')
  assert.equal(ordinalEs(11), 'DÉCIMO PRIMERO')
  assert.equal(ordinalEs(12), 'DÉCIMO SEGUNDO')
  assert.equal(ordinalEs(13), 'DÉCIMO TERCERO')
  assert.equal(ordinalEs(18), 'DÉCIMO OCTAVO')
  assert.equal(ordinalEs(20), 'VIGÉSIMO')
  assert.equal(ordinalEs(21), 'VIGÉSIMO PRIMERO')
  assert.equal(ordinalEs(30), 'TRIGÉSIMO')
  assert.equal(ordinalEs(99), 'NONAGÉSIMO NOVENO')
})

test('styles', () => {
  assert.equal(toRoman(4), 'IV')
  assert.equal(toRoman(1994), 'MCMXCIV')
  assert.equal(toAlpha(1), 'A')
  assert.equal(toAlpha(26), 'Z')
  assert.equal(toAlpha(27), 'AA')
  assert.equal(toAlpha(28), 'AB')
  assert.equal(formatNumber(3, 'lower-alpha'), 'c')
  assert.equal(formatNumber(3, 'lower-roman'), 'iii')
})

test('continuous articles, pins, per-kind counters', () => {
  const tree = [
    { kind: 'preamble' },
    { kind: 'title', children: [
      { kind: 'chapter', children: [art(null, [
        { kind: 'paragraph', children: [{ kind: 'subparagraph' }, { kind: 'subparagraph', children: [{ kind: 'point', children: [{ kind: 'indent' }, { kind: 'indent' }] }] }] },
        { kind: 'subparagraph' },
        { kind: 'paragraph' }
      ]), art('1 Bis'), art(null)] },
      { kind: 'chapter', children: [art(null)] }
    ] },
    { kind: 'title', children: [{ kind: 'chapter', children: [art(null)] }] },
    { kind: 'chapter' },
    art(null)
  ]
  const labels = numberUnits(tree, { language: 'spa' }).map(e => e.label)
  assert.deepEqual(labels, [
    '', 'TÍTULO PRIMERO', 'CAPÍTULO I', 'Artículo 1', 'A.', '1.', '2.', 'I.', 'a)', 'b)', '1.', 'B.',
    'Artículo 1 Bis', 'Artículo 2', 'CAPÍTULO II', 'Artículo 3',
    'TÍTULO SEGUNDO', 'CAPÍTULO I', 'Artículo 4', 'CAPÍTULO I', 'Artículo 5'
  ])
})

test('english labels and overrides', () => {
  const tree = [{ kind: 'title', children: [{ kind: 'chapter', children: [art(null, [{ kind: 'paragraph' }])] }] }]
  assert.deepEqual(numberUnits(tree, { language: 'eng' }).map(e => e.label), ['TITLE 1', 'CHAPTER I', 'Article 1', 'A.'])
  assert.deepEqual(numberUnits(tree, { language: 'spa', numbering: '{"paragraph": "lower-roman", "chapter": "arabic"}' }).map(e => e.label),
    ['TÍTULO PRIMERO', 'CAPÍTULO 1', 'Artículo 1', 'i.'])
})

test('schedules are numbered apart, their articles count within them; cross-headings have no number', () => {
  const out = numberUnits([
    { kind: 'crossHeading' },
    art(null),
    { kind: 'chapter', children: [{ kind: 'crossHeading' }, art(null)] },
    { kind: 'transitional', children: [art(null)] },
    { kind: 'attachment', children: [{ kind: 'paragraph' }, art(null), { kind: 'crossHeading' }, art(null)] },
    { kind: 'attachment', pin: null, children: [art(null)] }
  ], { language: 'spa' })
  assert.deepEqual(out.map(e => e.label), [
    '', 'Artículo 1', 'CAPÍTULO I', '', 'Artículo 2', '', 'Artículo PRIMERO transitorio',
    'ANEXO 1', 'A.', 'Artículo 1', '', 'Artículo 2', 'ANEXO 2', 'Artículo 1'
  ])
  const english = numberUnits([art(null), { kind: 'attachment' }, { kind: 'attachment', pin: '3A' }], { language: 'eng' })
  assert.deepEqual(english.map(e => e.label), ['Article 1', 'Schedule 1', 'Schedule 3A'])
})
