/** Which API routes this server has, read from its OpenAPI document.
 *
 * The UI shows a screen or control only when the route behind it exists, so a server without
 * (say) session login never shows a password form that cannot work. */
export class Capabilities {
  private readonly routes: Set<string>

  constructor(routes: Iterable<string>) {
    this.routes = new Set(routes)
  }

  /** `has('POST', '/api/v1/session')` — path templates as written in OpenAPI (`{flow_id}`). */
  has(method: string, path: string): boolean {
    return this.routes.has(`${method.toUpperCase()} ${path}`)
  }

  static fromOpenApi(doc: { paths?: Record<string, Record<string, unknown>> }): Capabilities {
    const routes: string[] = []
    for (const [path, ops] of Object.entries(doc.paths ?? {})) {
      for (const method of Object.keys(ops)) routes.push(`${method.toUpperCase()} ${path}`)
    }
    return new Capabilities(routes)
  }
}

export async function loadCapabilities(): Promise<Capabilities> {
  const response = await fetch('/openapi.json', { credentials: 'same-origin' })
  if (!response.ok) return new Capabilities([])
  return Capabilities.fromOpenApi(await response.json())
}
