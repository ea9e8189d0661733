import { createContext, useCallback, useContext, useEffect, useMemo, useState } from 'react'
import type { ReactNode } from 'react'
import { api, ApiError, setCsrfToken, storeApiKey, storedApiKey } from './client'
import { Capabilities, loadCapabilities } from './capabilities'

export interface Workspace {
  id: number
  slug: string
  name: string
  timezone: string
  country: string
  language: string
  role: string
}

/** `GET /api/v1/session`: the logged-in user and the workspaces they can switch to. */
export interface Me {
  user_id: number
  email: string
  name: string
  workspace_id: number
  role: string
  csrf_token: string
  workspaces: { id: number; slug: string; name: string; role: string }[]
}

type AuthState =
  | { status: 'loading' }
  | { status: 'anonymous'; caps: Capabilities }
  | { status: 'signed-in'; caps: Capabilities; workspace: Workspace; me: Me | null }

interface Auth {
  state: AuthState
  signInWithKey: (key: string) => Promise<void>
  signInWithPassword: (email: string, password: string) => Promise<void>
  switchWorkspace: (workspaceId: number) => Promise<void>
  signOut: () => Promise<void>
}

const AuthContext = createContext<Auth | null>(null)

async function orNullOn401<T>(call: () => Promise<T>): Promise<T | null> {
  try {
    return await call()
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null
    throw err
  }
}

/** Who is calling: the pasted API key wins; else the session cookie, when the server has one. */
async function whoAmI(caps: Capabilities): Promise<AuthState> {
  let me: Me | null = null
  if (!storedApiKey() && caps.has('GET', '/api/v1/session')) {
    me = await orNullOn401(() => api<Me>('GET', '/session'))
    setCsrfToken(me?.csrf_token ?? null)
    if (!me) return { status: 'anonymous', caps }
  }
  const workspace = await orNullOn401(() => api<Workspace>('GET', '/workspace'))
  if (!workspace) return { status: 'anonymous', caps }
  return { status: 'signed-in', caps, workspace, me }
}

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState>({ status: 'loading' })
  const [caps, setCaps] = useState<Capabilities | null>(null)

  const refresh = useCallback(async (c: Capabilities) => {
    setState(await whoAmI(c))
  }, [])

  useEffect(() => {
    let cancelled = false
    void (async () => {
      const c = await loadCapabilities()
      if (cancelled) return
      setCaps(c)
      await refresh(c)
    })()
    return () => {
      cancelled = true
    }
  }, [refresh])

  const value = useMemo<Auth>(() => {
    const again = async () => {
      if (caps) await refresh(caps)
    }
    return {
      state,
      signInWithKey: async (key) => {
        storeApiKey(key.trim())
        try {
          await api<Workspace>('GET', '/workspace')
        } catch (err) {
          storeApiKey(null)
          throw err
        }
        await again()
      },
      signInWithPassword: async (email, password) => {
        storeApiKey(null)
        const me = await api<Me>('POST', '/session', { email, password })
        setCsrfToken(me.csrf_token)
        await again()
      },
      switchWorkspace: async (workspaceId) => {
        const me = await api<Me>('POST', '/session/workspace', { workspace_id: workspaceId })
        setCsrfToken(me.csrf_token)
        await again()
      },
      signOut: async () => {
        const hadKey = storedApiKey() !== null
        storeApiKey(null)
        if (!hadKey && caps?.has('DELETE', '/api/v1/session')) {
          await api('DELETE', '/session')
        }
        setCsrfToken(null)
        await again()
      },
    }
  }, [state, caps, refresh])
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}

export function useAuth(): Auth {
  const value = useContext(AuthContext)
  if (!value) throw new Error('useAuth outside AuthProvider')
  return value
}
