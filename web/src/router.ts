import { useEffect, useState } from 'react'

/** Hash routes (`#/flows/3`): the API's static mount serves only `/`, so deep links need no
 * server-side fallback. */
export type Route =
  | { name: 'flows' }
  | { name: 'flow'; id: number }
  | { name: 'runs'; flowId?: number; contactId?: number }
  | { name: 'run'; id: string }
  | { name: 'dead-letters' }
  | { name: 'contacts' }
  | { name: 'pipelines' }
  | { name: 'tickets' }
  | { name: 'settings' }
  | { name: 'inbox' }
  | { name: 'dashboard' }

const SIMPLE = ['pipelines', 'tickets', 'settings', 'inbox', 'dashboard', 'dead-letters'] as const

export function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?')
  const params = new URLSearchParams(query)
  const flow = /^\/flows\/(\d+)$/.exec(path)
  if (flow) return { name: 'flow', id: Number(flow[1]) }
  const run = /^\/runs\/([^/]+)$/.exec(path)
  if (run) return { name: 'run', id: decodeURIComponent(run[1]) }
  if (path === '/contacts') return { name: 'contacts' }
  for (const name of SIMPLE) if (path === `/${name}`) return { name }
  if (path === '/runs') {
    const route: Route = { name: 'runs' }
    if (params.get('flow')) route.flowId = Number(params.get('flow'))
    if (params.get('contact')) route.contactId = Number(params.get('contact'))
    return route
  }
  return { name: 'flows' }
}

export function href(route: Route): string {
  switch (route.name) {
    case 'flow':
      return `#/flows/${route.id}`
    case 'run':
      return `#/runs/${encodeURIComponent(route.id)}`
    case 'runs': {
      const params = new URLSearchParams()
      if (route.flowId) params.set('flow', String(route.flowId))
      if (route.contactId) params.set('contact', String(route.contactId))
      const q = params.toString()
      return q ? `#/runs?${q}` : '#/runs'
    }
    case 'contacts':
    case 'pipelines':
    case 'tickets':
    case 'settings':
    case 'inbox':
    case 'dashboard':
    case 'dead-letters':
      return `#/${route.name}`
    default:
      return '#/flows'
  }
}

export function navigate(route: Route): void {
  window.location.hash = href(route)
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash))
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(window.location.hash))
    window.addEventListener('hashchange', onChange)
    return () => window.removeEventListener('hashchange', onChange)
  }, [])
  return route
}
