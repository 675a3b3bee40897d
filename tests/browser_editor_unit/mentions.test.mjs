// Run: node --test tests/browser_editor_unit/   (from the repo root, after `cd web && npm ci`)
// Mentions in the comments panel (web/src/comments.js): which @name is being typed, what is
// inserted for a person, and who fits what was typed (accents and case aside).
import test from 'node:test'
import assert from 'node:assert/strict'
const { mentionAt, mentionText, matchingPeople } = await import('../../web/src/comments.js')

const people = [{ name: 'Ana' }, { name: 'Bruno Díaz' }, { name: 'Lucía Pérez' }, { name: 'José María Núñez' }]

test('the @name before the caret, quoted or not, and never inside an e-mail address', () => {
  assert.deepEqual(mentionAt('Hola @Br', 8), { start: 5, query: 'Br' })
  assert.deepEqual(mentionAt('@', 1), { start: 0, query: '' })
  assert.deepEqual(mentionAt('Ver @"Bruno D', 13), { start: 4, query: 'Bruno D' })
  assert.equal(mentionAt('ana@example', 11), null)
  assert.equal(mentionAt('@Bruno dijo', 11), null) // past the name: a word after a space ends it
  assert.equal(mentionAt('sin nombre', 10), null)
})

test('a name with spaces is inserted quoted, so the server reads it whole', () => {
  assert.equal(mentionText('Ana'), '@Ana ')
  assert.equal(mentionText('Bruno Díaz'), '@"Bruno Díaz" ')
})

test('people fit by the start of any of their words, without accents or case', () => {
  assert.deepEqual(matchingPeople(people, 'bru').map(p => p.name), ['Bruno Díaz'])
  assert.deepEqual(matchingPeople(people, 'diaz').map(p => p.name), ['Bruno Díaz'])
  assert.deepEqual(matchingPeople(people, 'lucia p').map(p => p.name), ['Lucía Pérez'])
  assert.deepEqual(matchingPeople(people, 'maría').map(p => p.name), ['José María Núñez'])
  assert.equal(matchingPeople(people, '').length, 4)
  assert.deepEqual(matchingPeople(people, 'zz'), [])
})
