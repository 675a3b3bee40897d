// Presence list (#presence) from awareness states. The server vouches for names and colours, and
// counts anonymous followers instead of relaying them (one entry under FOLLOWERS_CLIENT).
export const FOLLOWERS_CLIENT = 1
export class Presence {
  constructor (ul, awareness, t) {
    this.ul = ul
    this.awareness = awareness
    this.t = t
    this.signature = null
    this._onChange = () => this.render()
    awareness.on('change', this._onChange)
    this.render()
  }

  render () {
    const self = this.awareness.clientID
    const entries = []
    let followers = 0
    this.awareness.getStates().forEach((state, id) => {
      // The server's own entry (client 1): how many anonymous readers follow the text live.
      if (id === FOLLOWERS_CLIENT && state && Number.isInteger(state.followers)) followers = state.followers
      if (!state || !state.user || id === FOLLOWERS_CLIENT) return
      entries.push({ id, me: id === self, user: state.user, unit: state.unit || null })
    })
    entries.sort((a, b) => (b.me - a.me) || String(a.user.name || '').localeCompare(String(b.user.name || '')) || a.id - b.id)
    const sig = JSON.stringify([entries, followers])
    if (sig === this.signature) return
    this.signature = sig
    const items = entries.map(e => {
      const li = document.createElement('li')
      li.className = 'presence-user' + (e.me ? ' presence-me' : '')
      li.dataset.clientId = String(e.id)
      const dot = document.createElement('span')
      dot.className = 'presence-dot'
      dot.setAttribute('aria-hidden', 'true')
      dot.style.backgroundColor = safeColor(e.user.color)
      const name = document.createElement('span')
      name.className = 'presence-name'
      name.textContent = (e.user.name || this.t.anonymous) + (e.me ? ' ' + this.t.you : '')
      const where = document.createElement('span')
      where.className = 'presence-unit'
      where.textContent = e.unit && e.unit.label ? e.unit.label : this.t.nowhere
      if (e.unit && e.unit.guid) where.dataset.guid = e.unit.guid
      li.append(dot, name, ' ', where)
      return li
    })
    if (followers > 0) {
      const li = document.createElement('li')
      li.className = 'presence-followers'
      li.textContent = this.t.followers(followers)
      items.push(li)
    }
    this.ul.replaceChildren(...items)
  }

  destroy () {
    this.awareness.off('change', this._onChange)
  }
}

export function safeColor (c) {
  return typeof c === 'string' && /^#[0-9a-fA-F]{3,8}$/.test(c) ? c : '#64748b'
}
