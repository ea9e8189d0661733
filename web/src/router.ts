import { useEffect, useState } from 'react'

/** Hash routes (`#/flows/3`): the API's static mount serves only `/`, so deep links need no
 * server-side fallback. */
export type Route = { name: 'flows' } | { name: 'flow'; id: number }

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '')
  const flow = /^\/flows\/(\d+)$/.exec(path)
  if (flow) return { name: 'flow', id: Number(flow[1]) }
  return { name: 'flows' }
}

export function href(route: Route): string {
  return route.name === 'flow' ? `#/flows/${route.id}` : '#/flows'
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
