/** The Liquid variables a text field can use, and the completion logic. Pure: no React. */
import type { FlowGraph } from './convert'

export interface LiquidVar {
  path: string
  /** What it is: a dictionary key suffix (`contact`, `result`, `trigger`, `field`, ...). */
  group: 'contact' | 'field' | 'result' | 'trigger' | 'other'
}

const CONTACT = ['id', 'name', 'first_name', 'last_name', 'phone', 'email', 'language', 'country',
  'timezone', 'tags', 'lead_score', 'referral']
const OTHER = ['message.text', 'workspace.timezone', 'workspace.country', 'flow.name', 'run.id', 'now']

/** Nodes from which `nodeId` can be reached (it runs after them), nearest first. */
export function upstream(graph: Pick<FlowGraph, 'edges'>, nodeId: string): string[] {
  const seen = new Set<string>([nodeId])
  const out: string[] = []
  let frontier = [nodeId]
  while (frontier.length) {
    const next: string[] = []
    for (const id of frontier) {
      for (const e of graph.edges) {
        if (e.target === id && !seen.has(e.source)) {
          seen.add(e.source)
          out.push(e.source)
          next.push(e.source)
        }
      }
    }
    frontier = next
  }
  return out
}

/** Every variable a text field of `nodeId` can use: the contact (and its custom fields), the
 * results saved by earlier nodes, the trigger that started the run, and a few more. */
export function liquidVariables(graph: FlowGraph, nodeId: string, fieldKeys: string[]): LiquidVar[] {
  const vars: LiquidVar[] = CONTACT.map((k) => ({ path: `contact.${k}`, group: 'contact' as const }))
  for (const key of fieldKeys) vars.push({ path: `contact.fields.${key}`, group: 'field' })
  const byId = new Map(graph.nodes.map((n) => [n.id, n]))
  for (const id of upstream(graph, nodeId)) {
    const config = (byId.get(id)?.data.node.config ?? {}) as Record<string, unknown>
    if (typeof config.save_as === 'string' && config.save_as) vars.push({ path: `results.${config.save_as}`, group: 'result' })
    vars.push({ path: `results.${id}`, group: 'result' })
  }
  const triggers = ((graph.rest as { triggers?: { type?: string }[] }).triggers ?? []).map((t) => t.type ?? '')
  const trig = new Set<string>(['trigger.type'])
  for (const type of triggers) {
    if (type === 'inbound_message' || type === 'ad_referral') {
      for (const k of ['text', 'channel', 'button_id', 'button_title', 'referral']) trig.add(`trigger.${k}`)
    } else if (type === 'manual' || type === 'schedule' || type === 'relative_date' || type === 'inactivity') {
      trig.add('trigger.source')
      trig.add('trigger.params')
    } else if (type) {
      trig.add('trigger.name')
      trig.add('trigger.data')
      trig.add('event')
    }
  }
  for (const path of trig) vars.push({ path, group: 'trigger' })
  for (const path of OTHER) vars.push({ path, group: 'other' })
  return vars
}

/** The variable being typed at `caret`: the text after an unclosed `{{`, or null. */
export function typedVariable(text: string, caret: number): { start: number; prefix: string } | null {
  const before = text.slice(0, caret)
  const m = /\{\{-?\s*([\w.]*)$/.exec(before)
  if (!m) return null
  return { start: caret - m[1].length, prefix: m[1] }
}

/** Variables matching what is typed: prefix matches first, then matches inside the path. */
export function suggestions(vars: LiquidVar[], prefix: string, limit = 8): LiquidVar[] {
  const p = prefix.toLowerCase()
  const starts = vars.filter((v) => v.path.toLowerCase().startsWith(p))
  const inside = p ? vars.filter((v) => !v.path.toLowerCase().startsWith(p) && v.path.toLowerCase().includes(p)) : []
  return [...starts, ...inside].slice(0, limit)
}

/** Put `path` in place of the typed prefix and close the tag when it is not closed yet. */
export function insertVariable(text: string, caret: number, path: string): { text: string; caret: number } {
  const typed = typedVariable(text, caret)
  if (!typed) return { text, caret }
  const after = text.slice(caret)
  const closed = /^\s*[\w.]*\s*-?\}\}/.test(after)
  const rest = closed ? after.replace(/^[\w.]*/, '') : ` }}${after}`
  const head = text.slice(0, typed.start) + path
  return { text: head + rest, caret: head.length + (closed ? 0 : 3) }
}
