import { useId, useState } from 'react'
import type { FlowGraph } from './convert'
import type { JsonSchema } from './schema'
import { emptyValue } from './schema'
import { SchemaForm } from './SchemaForm'
import type { Problem } from './document'
import { useI18n } from '../i18n'

type Obj = Record<string, unknown>

/** Trigger types from the flow schema: `type` → the `$defs` entry that describes it. */
export function triggerVariants(flowSchema: JsonSchema): Record<string, string> {
  const items = (flowSchema.properties?.triggers?.items ?? {}) as JsonSchema & {
    discriminator?: { mapping?: Record<string, string> }
  }
  const mapping = items.discriminator?.mapping ?? {}
  return Object.fromEntries(Object.entries(mapping).map(([type, ref]) => [type, ref.replace('#/$defs/', '')]))
}

interface Props {
  graph: FlowGraph
  flowSchema: JsonSchema
  problems: Problem[]
  edit: (change: (g: FlowGraph) => FlowGraph, key?: string | null) => void
}

/** What applies to the whole flow: triggers, start node and settings (re-entry, hours…). */
export function FlowSettings({ graph, flowSchema, problems, edit }: Props) {
  const { t, lookup } = useI18n()
  const defs = flowSchema.$defs ?? {}
  const variants = triggerVariants(flowSchema)
  const types = Object.keys(variants)
  const [newType, setNewType] = useState(types[0] ?? '')
  const ids = { type: useId(), start: useId() }
  const triggers = (graph.rest.triggers ?? []) as Obj[]
  const byField: Record<string, string[]> = {}
  for (const p of problems) if (p.field) (byField[p.field] ??= []).push(p.message)
  const setTriggers = (next: Obj[], key: string | null) =>
    edit((g) => ({ ...g, rest: { ...g.rest, triggers: next } }), key)
  const triggerName = (type: string) => lookup(`trigger.${type}`) ?? type
  const settingsSchema = defs.FlowSettings ? { ...defs.FlowSettings, $defs: defs } : null
  const sub = (prefix: string) =>
    Object.fromEntries(Object.entries(byField).filter(([k]) => k.startsWith(prefix + '.'))
      .map(([k, v]) => [k.slice(prefix.length + 1), v]))

  return (
    <section aria-labelledby="flow-settings-title" data-testid="flow-settings">
      <h2 id="flow-settings-title">{t('flow.settings')}</h2>
      <h3>{t('flow.triggers')}</h3>
      {triggers.length === 0 && <p className="help">{t('flow.noTriggers')}</p>}
      {triggers.map((trigger, i) => {
        const type = String(trigger.type)
        const def = defs[variants[type]]
        return (
          <fieldset key={i}>
            <legend>{triggerName(type)}</legend>
            {def ? (
              <SchemaForm schema={{ ...def, $defs: defs }} value={trigger} problems={sub(`triggers.${i}`)}
                onChange={(value) => setTriggers(triggers.map((x, j) => (j === i ? value : x)), `trigger:${i}`)} />
            ) : null}
            <button type="button" className="danger"
              onClick={() => setTriggers(triggers.filter((_, j) => j !== i), null)}>
              {t('flow.removeTrigger', { n: i + 1 })}
            </button>
          </fieldset>
        )
      })}
      {types.length > 0 && (
        <div className="row" style={{ alignItems: 'flex-end', marginBottom: '0.75rem' }}>
          <label htmlFor={ids.type} style={{ margin: 0, flex: 1 }}>
            {t('flow.triggerType')}
            <select id={ids.type} value={newType} onChange={(e) => setNewType(e.target.value)}>
              {types.map((type) => <option key={type} value={type}>{triggerName(type)}</option>)}
            </select>
          </label>
          <button type="button" onClick={() => {
            const def = defs[variants[newType]]
            if (!def) return
            setTriggers([...triggers, emptyValue({ ...def, $defs: defs }, { ...def, $defs: defs }) as Obj], null)
          }}>{t('flow.addTrigger')}</button>
        </div>
      )}
      <label htmlFor={ids.start}>
        {t('flow.start')}
        <select id={ids.start} value={typeof graph.rest.start === 'string' ? graph.rest.start : ''}
          onChange={(e) => edit((g) => {
            const { start: _old, ...rest } = g.rest
            return { ...g, rest: e.target.value ? { ...rest, start: e.target.value } : rest }
          })}>
          <option value="">{t('flow.startDefault')}</option>
          {graph.nodes.map((n) => <option key={n.id} value={n.id}>{n.id}</option>)}
        </select>
      </label>
      {settingsSchema && (
        <fieldset>
          <legend>{t('flow.options')}</legend>
          <SchemaForm schema={settingsSchema} value={(graph.rest.settings ?? {}) as Obj} problems={sub('settings')}
            onChange={(settings) => edit((g) => ({ ...g, rest: { ...g.rest, settings } }), 'settings')} />
        </fieldset>
      )}
    </section>
  )
}
