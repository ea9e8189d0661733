import { useCallback, useDeferredValue, useEffect, useMemo, useRef, useState } from 'react'
import type { DragEvent } from 'react'
import {
  Background, Controls, MarkerType, MiniMap, ReactFlow, ReactFlowProvider, applyNodeChanges,
  useReactFlow, useStore, useUpdateNodeInternals,
} from '@xyflow/react'
import type { Connection, EdgeChange, NodeChange, ReactFlowState } from '@xyflow/react'
import {
  getFlow, getFlowSchema, getVersion, listNodeTypes, listVersions, nodeExits, publishFlow, rollbackFlow, saveDraft, validateFlow,
} from '../api/flows'
import type { FlowDetail, FlowVersion } from '../api/flows'
import { ApiError } from '../api/client'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { MessageKey } from '../i18n'
import { href } from '../router'
import { docToGraph, graphToDoc, nodeToDoc } from './convert'
import type { FlowGraph, FlowGraphNode } from './convert'
import type { NodeType, Problem } from './document'
import { CanvasContext, FlowNodeCard } from './FlowNodeCard'
import { addNode, applyExits, connect, removeEdges, removeNodes } from './graphOps'
import { canRedo, canUndo, commit, createHistory, redo, replace, undo } from './history'
import type { History } from './history'
import { Inspector } from './Inspector'
import { diffSummary } from './diff'
import type { DiffSummary } from './diff'
import { FlowSettings } from './FlowSettings'
import type { JsonSchema } from './schema'
import { Palette, NODE_MIME } from './Palette'
import { Simulator } from './Simulator'
import { listContactFields } from '../api/simulator'

/** How long the editor waits after the last change before saving the draft. */
export const AUTOSAVE_MS = 1200
const EXITS_MS = 250
const nodeTypes = { flow: FlowNodeCard }
const ARROW = { type: MarkerType.ArrowClosed, width: 18, height: 18 }

type SaveState = 'saved' | 'dirty' | 'saving' | 'error'

export function FlowEditor({ flowId }: { flowId: number }) {
  const { t } = useI18n()
  const errorText = useErrorText()
  const [loaded, setLoaded] = useState<{ flow: FlowDetail; types: NodeType[]; flowSchema: JsonSchema } | null>(null)
  const [error, setError] = useState<string | null>(null)
  useEffect(() => {
    let cancelled = false
    Promise.all([getFlow(flowId), listNodeTypes(), getFlowSchema()]).then(
      ([flow, types, flowSchema]) => !cancelled && setLoaded({ flow, types, flowSchema }),
      (err) => !cancelled && setError(t('editor.loadFailed', { message: errorText(err) })),
    )
    return () => {
      cancelled = true
    }
    // Load once per flow; a language switch must not reload (and lose) the editor state.
  }, [flowId])
  if (error) return <p role="alert" className="error">{error}</p>
  if (!loaded) return <p aria-busy="true">{t('app.loading')}</p>
  return (
    <ReactFlowProvider>
      <EditorBody flow={loaded.flow} types={loaded.types} flowSchema={loaded.flowSchema} />
    </ReactFlowProvider>
  )
}

/** Ids (NUL-separated, so the selector's answer compares by value) of the nodes React Flow
 * has measured but whose handle positions it does not know. */
function nodesWithoutHandles(state: ReactFlowState): string {
  const ids: string[] = []
  for (const [id, node] of state.nodeLookup) {
    if (node.measured.width !== undefined && !node.internals.handleBounds) ids.push(id)
  }
  return ids.join('\u0000')
}

function configSignature(graph: FlowGraph): string {
  return JSON.stringify(graph.nodes.map((n) => [n.id, n.data.node.type, n.data.node.config]))
}

function EditorBody({ flow, types, flowSchema }: { flow: FlowDetail; types: NodeType[]; flowSchema: JsonSchema }) {
  const { t } = useI18n()
  const errorText = useErrorText()
  const { screenToFlowPosition, setCenter } = useReactFlow()
  const [history, setHistory] = useState<History<FlowGraph>>(() => createHistory(docToGraph(flow.draft)))
  const graph = history.present
  const [selectedId, setSelectedId] = useState<string | null>(null)
  const [selectedEdges, setSelectedEdges] = useState<ReadonlySet<string>>(new Set())
  const [problems, setProblems] = useState<Problem[]>([])
  const [busy, setBusy] = useState<'idle' | 'saving' | 'error'>('idle')
  // Kept as key + parameters so a language switch translates a message already shown.
  const [message, setMessage] = useState<
    { kind: 'error' | 'notice'; key: MessageKey; params?: Record<string, string | number> } | null
  >(null)
  const [publishedVersion, setPublishedVersion] = useState(flow.published_version)
  const [versions, setVersions] = useState<FlowVersion[]>([])
  const [simOpen, setSimOpen] = useState(false)
  const [activeNode, setActiveNode] = useState<string | null>(null)
  const [fieldKeys, setFieldKeys] = useState<string[]>([])
  useEffect(() => {
    listContactFields().then((page) => setFieldKeys(page.items.map((f) => f.key)), () => undefined)
  }, [])
  const canvasRef = useRef<HTMLDivElement>(null)
  // Fit a loaded flow into view; an empty one starts at 100 % so dropped nodes keep their size.
  const [initiallyFilled] = useState(() => flow.draft.nodes.length > 0)
  const typeIndex = useMemo(() => Object.fromEntries(types.map((x) => [x.type, x])), [types])

  const edit = useCallback((change: (g: FlowGraph) => FlowGraph, key: string | null = null) => {
    setHistory((h) => commit(h, change(h.present), key, Date.now()))
  }, [])
  const quietly = useCallback((change: (g: FlowGraph) => FlowGraph) => {
    setHistory((h) => replace(h, change(h.present)))
  }, [])

  // ---- saving and checking ------------------------------------------------------------
  // Serialising 150 nodes on every drag frame would stall the canvas: the document (for
  // autosave and exits) follows the graph as a deferred value, after the canvas has painted.
  const deferredGraph = useDeferredValue(graph)
  const doc = useMemo(() => graphToDoc(deferredGraph), [deferredGraph])
  const docJson = useMemo(() => JSON.stringify(doc), [doc])
  const savedJson = useRef(JSON.stringify(flow.draft))
  // Also in state, so the status line changes on the very render that changes the document.
  const [savedDoc, setSavedDoc] = useState(savedJson.current)
  const latestGraph = useRef(graph)
  latestGraph.current = graph
  const currentDoc = useCallback(() => graphToDoc(latestGraph.current), [])

  const check = useCallback(async (): Promise<Problem[]> => {
    const result = await validateFlow(flow.id)
    setProblems(result.problems)
    return result.problems
  }, [flow.id])

  const save = useCallback(async (): Promise<boolean> => {
    const sending = currentDoc()
    const json = JSON.stringify(sending)
    if (json === savedJson.current) return true
    setBusy('saving')
    try {
      await saveDraft(flow.id, sending)
      savedJson.current = json
      // "Saved" is shown once the saved draft is also checked, so its problems are current.
      await check()
      setSavedDoc(json)
      setBusy('idle')
      return true
    } catch (err) {
      setBusy('error')
      setMessage({ kind: 'error', key: 'editor.saveFailed', params: { message: errorText(err) } })
      return false
    }
  }, [flow.id, check, t, errorText, currentDoc])

  useEffect(() => {
    if (docJson === savedJson.current) return
    const timer = setTimeout(() => void save(), AUTOSAVE_MS)
    return () => clearTimeout(timer)
  }, [docJson, save])

  useEffect(() => {
    void check().catch(() => undefined)
    void listVersions(flow.id).then(setVersions, () => undefined)
  }, [flow.id, check])

  // ---- exits follow the config (the server lists them) ----------------------------------
  const signature = useMemo(() => configSignature(deferredGraph), [deferredGraph])
  const loadedSignature = useRef(signature)
  useEffect(() => {
    if (signature === loadedSignature.current) return
    const timer = setTimeout(() => {
      const nodes = currentDoc().nodes
      nodeExits(nodes).then((result) => quietly((g) => applyExits(g, result.exits)), () => undefined)
    }, EXITS_MS)
    return () => clearTimeout(timer)
  }, [signature, quietly, currentDoc])

  // ---- canvas -------------------------------------------------------------------------
  // React Flow drops a node's handle positions when it is handed a copy of the node without
  // `measured` (the copy from a render made before the first measurement, e.g. the selection
  // right after a drop, applied after the measurement). It then re-measures only if it had
  // drawn the node as measured in between, which it may not have: the node's edges are never
  // drawn. Such nodes are re-measured here.
  const handlesLost = useStore(nodesWithoutHandles)
  const updateNodeInternals = useUpdateNodeInternals()
  useEffect(() => {
    if (handlesLost) updateNodeInternals(handlesLost.split('\u0000'))
  }, [handlesLost, updateNodeInternals])

  const rfNodes = useMemo(
    () => graph.nodes.map((n) => (n.id === selectedId ? { ...n, selected: true } : n)),
    [graph.nodes, selectedId],
  )
  const rfEdges = useMemo(
    () => graph.edges.map((e) => ({ ...e, markerEnd: ARROW, selected: selectedEdges.has(e.id) })),
    [graph.edges, selectedEdges],
  )

  const onNodesChange = useCallback((changes: NodeChange<FlowGraphNode>[]) => {
    const moves = changes.filter((c) => c.type === 'position')
    const measures = changes.filter((c) => c.type === 'dimensions')
    const removed = changes.flatMap((c) => (c.type === 'remove' ? [c.id] : []))
    for (const c of changes) {
      if (c.type !== 'select') continue
      if (c.selected) setSelectedId(c.id)
      else setSelectedId((current) => (current === c.id ? null : current))
    }
    if (measures.length) quietly((g) => ({ ...g, nodes: applyNodeChanges(measures, g.nodes) }))
    if (moves.length) {
      const key = 'move:' + moves.map((c) => c.id).join(',')
      edit((g) => ({ ...g, nodes: applyNodeChanges(moves, g.nodes) }), key)
    }
    if (removed.length) edit((g) => removeNodes(g, removed))
  }, [edit, quietly])

  const onEdgesChange = useCallback((changes: EdgeChange[]) => {
    const removed = changes.flatMap((c) => (c.type === 'remove' ? [c.id] : []))
    if (removed.length) edit((g) => removeEdges(g, removed))
    const selects = changes.filter((c) => c.type === 'select')
    if (selects.length) {
      setSelectedEdges((current) => {
        const next = new Set(current)
        for (const c of selects) if (c.type === 'select') c.selected ? next.add(c.id) : next.delete(c.id)
        return next
      })
    }
  }, [edit])

  const onConnect = useCallback((c: Connection) => edit((g) => connect(g, c)), [edit])

  const add = useCallback((type: string, at?: { x: number; y: number }) => {
    const nodeType = typeIndex[type]
    if (!nodeType) return
    let position = at
    if (!position) {
      const rect = canvasRef.current?.getBoundingClientRect()
      position = screenToFlowPosition({
        x: (rect?.left ?? 0) + (rect?.width ?? 400) / 2 - 100,
        y: (rect?.top ?? 0) + (rect?.height ?? 300) / 2 - 40,
      })
    }
    let created = ''
    edit((g) => {
      const [next, id] = addNode(g, nodeType, position)
      created = id
      return next
    })
    // The id is known once React has run the update.
    setTimeout(() => created && setSelectedId(created), 0)
  }, [typeIndex, screenToFlowPosition, edit])

  const onDrop = useCallback((e: DragEvent) => {
    const type = e.dataTransfer.getData(NODE_MIME)
    if (!type) return
    e.preventDefault()
    add(type, screenToFlowPosition({ x: e.clientX, y: e.clientY }))
  }, [add, screenToFlowPosition])

  // ---- undo / redo shortcuts --------------------------------------------------------------
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement
      if (target.closest('input, textarea, select, [contenteditable]')) return
      const mod = e.ctrlKey || e.metaKey
      if (mod && e.key.toLowerCase() === 'z') {
        e.preventDefault()
        setHistory((h) => (e.shiftKey ? redo(h) : undo(h)))
      } else if (mod && e.key.toLowerCase() === 'y') {
        e.preventDefault()
        setHistory(redo)
      }
    }
    window.addEventListener('keydown', onKey)
    return () => window.removeEventListener('keydown', onKey)
  }, [])

  // ---- publishing -----------------------------------------------------------------------
  const errors = problems.filter((p) => p.severity === 'error')
  const publish = async () => {
    setMessage(null)
    if (!(await save())) return
    try {
      const found = await check()
      if (found.some((p) => p.severity === 'error')) {
        setMessage({ kind: 'error', key: 'editor.publishBlocked' })
        return
      }
      const version = await publishFlow(flow.id)
      setPublishedVersion(version.number)
      setMessage({ kind: 'notice', key: 'editor.published', params: { version: version.number } })
      setVersions(await listVersions(flow.id))
    } catch (err) {
      // The server lists every problem when it refuses: show them on the nodes too.
      if (err instanceof ApiError && Array.isArray(err.body.problems)) setProblems(err.body.problems as Problem[])
      setMessage({ kind: 'error', key: 'editor.publishFailed', params: { message: errorText(err) } })
    }
  }
  const [diffs, setDiffs] = useState<Record<number, DiffSummary>>({})
  const compare = async (version: number) => {
    try {
      // Published documents are stored normalised (defaults filled in), so versions are
      // compared with each other, never with the raw draft.
      const [before, after] = await Promise.all([getVersion(flow.id, version - 1), getVersion(flow.id, version)])
      setDiffs((d) => ({ ...d, [version]: diffSummary(before.document, after.document) }))
    } catch (err) {
      setMessage({ kind: 'error', key: 'editor.loadFailed', params: { message: errorText(err) } })
    }
  }
  const diffText = (d: DiffSummary) =>
    d.added.length + d.removed.length + d.changed.length === 0 && !d.flowChanged
      ? t('editor.diffSame')
      : t('editor.diff', { added: d.added.length, removed: d.removed.length, changed: d.changed.length })
        + (d.flowChanged ? ` · ${t('editor.diffFlow')}` : '')
  const rollback = async (version: number) => {
    setMessage(null)
    try {
      const v = await rollbackFlow(flow.id, version)
      setPublishedVersion(v.number)
      setMessage({ kind: 'notice', key: 'editor.published', params: { version: v.number } })
      setVersions(await listVersions(flow.id))
    } catch (err) {
      setMessage({ kind: 'error', key: 'editor.publishFailed', params: { message: errorText(err) } })
    }
  }

  const problemsByNode = useMemo(() => {
    const out: Record<string, Problem[]> = {}
    for (const p of problems) if (p.node_id) (out[p.node_id] ??= []).push(p)
    return out
  }, [problems])
  const canvasInfo = useMemo(() => ({ types: typeIndex, problems: problemsByNode, active: activeNode }), [typeIndex, problemsByNode, activeNode])
  const selected = graph.nodes.find((n) => n.id === selectedId) ?? null

  const focusNode = (id: string) => {
    const node = graph.nodes.find((n) => n.id === id)
    if (!node) return
    setSelectedId(id)
    void setCenter(node.position.x + 100, node.position.y + 60, { zoom: 1, duration: 300 })
  }

  // While the deferred document lags behind the graph (the render right after an edit), the
  // document compared with the saved one is the old one: "saved" then would be a lie, and a
  // reader of the draft (a person, a test) would miss the edit just made.
  const unsaved = graph !== deferredGraph || docJson !== savedDoc
  const saveState: SaveState =
    busy === 'saving' ? 'saving' : unsaved ? (busy === 'error' ? 'error' : 'dirty') : 'saved'
  const statusText = {
    saved: t('editor.saved'), dirty: t('editor.unsaved'), saving: t('editor.saving'),
    error: t('editor.unsaved'),
  }[saveState]

  return (
    <div className={simOpen ? 'editor with-sim' : 'editor'}>
      <div className="editor-bar">
        <a href={href({ name: 'flows' })}>{t('editor.back')}</a>
        <label className="flow-name">
          <span className="sr-only">{t('editor.flowName')}</span>
          <input value={graph.rest.metadata.name} data-testid="flow-name"
            aria-label={t('editor.flowName')}
            onChange={(e) => {
              const name = e.target.value
              edit((g) => ({ ...g, rest: { ...g.rest, metadata: { ...g.rest.metadata, name } } }), 'flow-name')
            }} />
        </label>
        {publishedVersion ? (
          <span className="badge published">{t('flows.published')} v{publishedVersion}</span>
        ) : (
          <span className="badge draft">{t('flows.draft')}</span>
        )}
        <button type="button" onClick={() => setHistory(undo)} disabled={!canUndo(history)}>
          {t('editor.undo')}
        </button>
        <button type="button" onClick={() => setHistory(redo)} disabled={!canRedo(history)}>
          {t('editor.redo')}
        </button>
        <button type="button" onClick={() => void save()} disabled={saveState === 'saved' || saveState === 'saving'}>
          {t('editor.save')}
        </button>
        <button type="button" className="primary" onClick={() => void publish()}
          disabled={errors.length > 0} title={errors.length ? t('editor.publishBlocked') : undefined}
          data-testid="publish">
          {t('editor.publish')}
        </button>
        <button type="button" aria-pressed={simOpen} onClick={() => setSimOpen((o) => !o)} data-testid="sim-toggle"
          disabled={!publishedVersion} title={publishedVersion ? undefined : t('sim.needsPublish')}>
          {t('sim.open')}
        </button>
        <span className="status" role="status" data-testid="save-status">{statusText}</span>
        {message && (
          <p role={message.kind === 'error' ? 'alert' : 'status'} className={message.kind} data-testid="editor-message"
            style={{ flexBasis: '100%', margin: 0 }}>
            {t(message.key, message.params)}
          </p>
        )}
      </div>
      <Palette types={types} onAdd={(type) => add(type)} />
      <div className="canvas" ref={canvasRef} onDragOver={(e) => {
        e.preventDefault()
        e.dataTransfer.dropEffect = 'move'
      }} onDrop={onDrop} role="region" aria-label={t('editor.canvas')} data-testid="canvas">
        <CanvasContext.Provider value={canvasInfo}>
          <ReactFlow nodes={rfNodes} edges={rfEdges} nodeTypes={nodeTypes}
            onNodesChange={onNodesChange} onEdgesChange={onEdgesChange} onConnect={onConnect}
            fitView={initiallyFilled} fitViewOptions={{ maxZoom: 1 }}
            defaultViewport={{ x: 0, y: 0, zoom: 1 }} minZoom={0.1} deleteKeyCode={['Delete', 'Backspace']}
            onPaneClick={() => setSelectedId(null)}
            proOptions={{ hideAttribution: true }}>
            <Background />
            <Controls />
            <MiniMap pannable zoomable ariaLabel={t('editor.minimap')} />
          </ReactFlow>
        </CanvasContext.Provider>
      </div>
      {simOpen && (
        <aside className="inspector" aria-label={t('sim.title')}>
          <Simulator flowId={flow.id} onActiveNode={setActiveNode} />
        </aside>
      )}
      <aside className="inspector" aria-label={t('editor.inspector')} hidden={simOpen}>
        {selected ? (
          <Inspector key={selected.id} node={selected} nodeType={typeIndex[selected.data.node.type]}
            graph={graph} problems={problemsByNode[selected.id] ?? []} edit={edit} fieldKeys={fieldKeys}
            doc={nodeToDoc(selected, graph.edges)} onDelete={() => {
              const id = selected.id
              setSelectedId(null)
              edit((g) => removeNodes(g, [id]))
            }} />
        ) : (
          <>
            <p className="muted">{t('editor.selectNode')}</p>
            <FlowSettings graph={graph} flowSchema={flowSchema} edit={edit}
              problems={problems.filter((p) => !p.node_id)} />
          </>
        )}
        <section aria-labelledby="problems-title">
          <h2 id="problems-title">{t('editor.problems')}</h2>
          {problems.length === 0 ? (
            <p className="muted" data-testid="no-problems">{t('editor.noProblems')}</p>
          ) : (
            <ul className="problems" data-testid="problems">
              {problems.map((p, i) => (
                <li key={i}>
                  <span className={`badge ${p.severity}`}>{t(p.severity === 'error' ? 'editor.error' : 'editor.warning')}</span>{' '}
                  {p.node_id ? (
                    <button type="button" onClick={() => focusNode(p.node_id!)}>
                      <strong>{p.node_id}</strong>: {p.message}
                    </button>
                  ) : (
                    <span>{p.message}</span>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="versions-title">
          <h2 id="versions-title">{t('editor.versions')}</h2>
          {versions.length === 0 ? (
            <p className="muted">{t('editor.noVersions')}</p>
          ) : (
            <ul className="problems">
              {versions.map((v) => (
                <li key={v.number} className="row">
                  <span>v{v.number}</span>
                  {v.number > 1 && (
                    <button type="button" onClick={() => void compare(v.number)}>
                      {t('editor.compare', { version: v.number, previous: v.number - 1 })}
                    </button>
                  )}
                  {diffs[v.number] && <span className="help" data-testid={`diff-${v.number}`}>{diffText(diffs[v.number])}</span>}
                  {v.number !== publishedVersion && (
                    <button type="button" onClick={() => void rollback(v.number)}>
                      {t('editor.rollback', { version: v.number })}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </section>
      </aside>
    </div>
  )
}
