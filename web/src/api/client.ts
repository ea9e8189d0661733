/** A small typed client for Cauce's REST API (`/api/v1`). */

export interface ApiErrorBody {
  code: string
  message: string
  field?: string | null
}

/** An error answer from the API, carrying its `{"error": {...}}` body. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly field: string | null
  /** The whole `error` object, for answers that carry more (publish: `problems`). */
  readonly body: ApiErrorBody & Record<string, unknown>

  constructor(status: number, body: ApiErrorBody) {
    super(body.message)
    this.status = status
    this.code = body.code
    this.field = body.field ?? null
    this.body = body as ApiErrorBody & Record<string, unknown>
  }
}

const KEY_STORAGE = 'cauce.apiKey'

/** The API key pasted at login, kept for this browser tab only (sessionStorage). */
export function storedApiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE)
}

export function storeApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key)
  else sessionStorage.removeItem(KEY_STORAGE)
}

let csrfToken: string | null = null

/** The session's CSRF token (from `POST/GET /session`), sent as `X-CSRF-Token` on writes. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** Fetch `/api/v1{path}` as text (exports). */
export async function apiText(path: string): Promise<string> {
  const headers: Record<string, string> = {}
  const key = storedApiKey()
  if (key) headers.Authorization = `Bearer ${key}`
  const response = await fetch(`/api/v1${path}`, { headers, credentials: 'same-origin' })
  const text = await response.text()
  if (!response.ok) {
    let body: ApiErrorBody = { code: 'http_' + response.status, message: response.statusText }
    try {
      body = (JSON.parse(text) as { error: ApiErrorBody }).error ?? body
    } catch {
      // not JSON: keep the status line
    }
    throw new ApiError(response.status, body)
  }
  return text
}

/** Call `/api/v1{path}`. Sends the stored API key when there is one, and the session cookie. */
export async function api<T>(method: Method, path: string, body?: unknown): Promise<T> {
  return send<T>(method, path, body === undefined ? undefined : JSON.stringify(body), body !== undefined)
}

/** POST a multipart form (file uploads) to `/api/v1{path}`; the browser sets its boundary. */
export async function apiForm<T>(path: string, form: FormData): Promise<T> {
  return send<T>('POST', path, form, false)
}

async function send<T>(method: Method, path: string, body: BodyInit | undefined, json: boolean): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' }
  const key = storedApiKey()
  if (key) headers.Authorization = `Bearer ${key}`
  if (json) headers['Content-Type'] = 'application/json'
  if (csrfToken && method !== 'GET') headers['X-CSRF-Token'] = csrfToken
  let response: Response
  try {
    response = await fetch(`/api/v1${path}`, { method, headers, credentials: 'same-origin', body })
  } catch {
    throw new ApiError(0, { code: 'network', message: 'the server could not be reached' })
  }
  if (response.status === 204) return undefined as T
  const text = await response.text()
  let data: unknown = null
  if (text) {
    try {
      data = JSON.parse(text)
    } catch {
      data = null
    }
  }
  if (!response.ok) {
    const err = (data as { error?: ApiErrorBody & Record<string, unknown> } | null)?.error
    throw new ApiError(
      response.status,
      err ?? { code: 'http_' + response.status, message: `${response.status} ${response.statusText}` },
    )
  }
  return data as T
}
