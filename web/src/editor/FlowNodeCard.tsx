import { createContext, memo, useContext } from 'react'
import { Handle, Position } from '@xyflow/react'
import type { NodeProps } from '@xyflow/react'
import type { FlowGraphNode } from './convert'
import type { NodeType, Problem } from './document'
import { useI18n } from '../i18n'

export interface CanvasInfo {
  types: Record<string, NodeType>
  problems: Record<string, Problem[]>
  /** The node the simulated run is at, highlighted. */
  active?: string | null
}

/** Node types and validation problems, read by every node card without re-creating nodes. */
export const CanvasContext = createContext<CanvasInfo>({ types: {}, problems: {}, active: null })

/** The label of an exit: translated for fixed exits, as written for button/intent ids. */
export function useExitLabel(): (exit: string) => string {
  const { lookup } = useI18n()
  return (exit) => lookup(`exit.${exit}`) ?? exit
}

const plural = (n: number) => (n === 1 ? 'one' : 'other')

function FlowNodeCardImpl({ id, data, selected }: NodeProps<FlowGraphNode>) {
  const { t, lookup } = useI18n()
  const exitLabel = useExitLabel()
  const { types, problems, active } = useContext(CanvasContext)
  const type = data.node.type
  const category = types[type]?.category ?? 'data'
  const typeName = lookup(`node.${type}.name`) ?? type
  const list = problems[id] ?? []
  const errors = list.filter((p) => p.severity === 'error').length
  const warnings = list.length - errors
  const classes = ['flow-node', `node-cat-${category}`]
  if (selected) classes.push('selected')
  if (active === id) classes.push('active')
  if (errors) classes.push('has-error')
  else if (warnings) classes.push('has-warning')
  const title = typeof data.node.name === 'string' && data.node.name ? data.node.name : id
  return (
    <div className={classes.join(' ')} data-testid={`node-${id}`} data-active={active === id ? 'true' : undefined}>
      <Handle type="target" position={Position.Left} id="in" />
      <header>
        <span>{title}</span>
        {active === id && <span className="badge published">{t('sim.here')}</span>}
        {errors > 0 && (
          <span className="badge error" title={list.map((p) => p.message).join('\n')}>
            {t(plural(errors) === 'one' ? 'editor.errorCount.one' : 'editor.errorCount.other', { n: errors })}
          </span>
        )}
        {!errors && warnings > 0 && (
          <span className="badge warning">
            {t(plural(warnings) === 'one' ? 'editor.warningCount.one' : 'editor.warningCount.other', { n: warnings })}
          </span>
        )}
      </header>
      <div className="type">{typeName}</div>
      {data.exitNames.length > 0 && (
        <ul className="exits">
          {data.exitNames.map((exit) => (
            <li key={exit}>
              {exitLabel(exit)}
              <Handle type="source" position={Position.Right} id={exit}
                data-testid={`handle-${id}-${exit}`} />
            </li>
          ))}
        </ul>
      )}
    </div>
  )
}

export const FlowNodeCard = memo(FlowNodeCardImpl)
