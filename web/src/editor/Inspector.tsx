import { useId, useMemo } from 'react'
import type { FlowGraph, FlowGraphNode } from './convert'
import { edgeId } from './convert'
import type { FlowNodeDoc, NodeType, Problem } from './document'
import { connect, removeEdges, updateNode } from './graphOps'
import { SchemaForm } from './SchemaForm'
import { LiquidContext } from './LiquidText'
import { liquidVariables } from './liquid'
import { useExitLabel } from './FlowNodeCard'
import { useI18n } from '../i18n'

interface Props {
  node: FlowGraphNode
  nodeType: NodeType | undefined
  graph: FlowGraph
  doc: FlowNodeDoc
  problems: Problem[]
  edit: (change: (g: FlowGraph) => FlowGraph, key?: string | null) => void
  onDelete: () => void
  /** Custom contact field keys, offered as `contact.fields.<key>` in text fields. */
  fieldKeys?: string[]
}

/** The selected node: label, a form generated from its type's schema, and its exits. */
export function Inspector({ node, nodeType, graph, doc, problems, edit, onDelete, fieldKeys = [] }: Props) {
  const variables = useMemo(() => liquidVariables(graph, node.id, fieldKeys), [graph, node.id, fieldKeys])
  const { t, lookup } = useI18n()
  const exitLabel = useExitLabel()
  const nameId = useId()
  const type = node.data.node.type
  const byField: Record<string, string[]> = {}
  for (const p of problems) {
    const field = (p.field ?? '').replace(/^config\.?/, '')
    ;(byField[field] ??= []).push(p.message)
  }
  const general = problems.filter((p) => !p.field || !p.field.startsWith('config.'))
  const others = graph.nodes.filter((n) => n.id !== node.id)
  return (
    <section aria-labelledby="inspector-title" data-testid="inspector">
      <h2 id="inspector-title">{lookup(`node.${type}.name`) ?? type}</h2>
      <p className="help">{lookup(`node.${type}.summary`) ?? nodeType?.summary}</p>
      <p className="help">{t('editor.nodeId')}: <code>{node.id}</code></p>
      {general.length > 0 && (
        <ul className="problems">
          {general.map((p, i) => (
            <li key={i}><span className={`badge ${p.severity}`}>{t(p.severity === 'error' ? 'editor.error' : 'editor.warning')}</span> {p.message}</li>
          ))}
        </ul>
      )}
      <label htmlFor={nameId}>
        {t('editor.nodeName')}
        <input id={nameId} value={typeof node.data.node.name === 'string' ? node.data.node.name : ''}
          onChange={(e) => {
            const name = e.target.value
            edit((g) => updateNode(g, node.id, { name }), `name:${node.id}`)
          }} />
      </label>
      {nodeType ? (
        <LiquidContext.Provider value={variables}>
        <SchemaForm schema={nodeType.config_schema}
          value={(node.data.node.config ?? {}) as Record<string, unknown>} problems={byField}
          onChange={(config) => edit((g) => updateNode(g, node.id, { config }), `config:${node.id}`)} />
        </LiquidContext.Provider>
      ) : null}
      {node.data.exitNames.length > 0 && (
        <fieldset>
          <legend>{t('editor.exits')}</legend>
          {node.data.exitNames.map((exit) => (
            <ExitTarget key={exit} label={exitLabel(exit)} value={doc.exits?.[exit] ?? ''}
              options={others.map((n) => ({ id: n.id, label: typeof n.data.node.name === 'string' && n.data.node.name ? `${n.data.node.name} (${n.id})` : n.id }))}
              onChange={(target) => edit((g) => target
                ? connect(g, { source: node.id, sourceHandle: exit, target, targetHandle: null })
                : removeEdges(g, [edgeId(node.id, exit)]))} />
          ))}
        </fieldset>
      )}
      <button type="button" className="danger" onClick={onDelete}>{t('editor.delete')}</button>
    </section>
  )
}

function ExitTarget({ label, value, options, onChange }: {
  label: string
  value: string
  options: { id: string; label: string }[]
  onChange: (target: string | null) => void
}) {
  const { t } = useI18n()
  const id = useId()
  const known = options.some((o) => o.id === value)
  return (
    <label htmlFor={id}>
      {label}
      <select id={id} value={value} onChange={(e) => onChange(e.target.value || null)}>
        <option value="">{t('form.none')}</option>
        {!known && value && <option value={value}>{value}</option>}
        {options.map((o) => <option key={o.id} value={o.id}>{o.label}</option>)}
      </select>
    </label>
  )
}
