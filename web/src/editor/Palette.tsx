import type { NodeType } from './document'
import { useI18n } from '../i18n'

export const NODE_MIME = 'application/x-cauce-node-type'
const CATEGORY_ORDER = ['message', 'wait', 'logic', 'data', 'ai']

/** Every node type, by category. Drag one onto the canvas, or click / press Enter to add it. */
export function Palette({ types, onAdd }: { types: NodeType[]; onAdd: (type: string) => void }) {
  const { t, lookup } = useI18n()
  const categories = [...new Set([...CATEGORY_ORDER, ...types.map((x) => x.category)])]
  return (
    <nav className="palette" aria-labelledby="palette-title">
      <h2 id="palette-title">{t('editor.palette')}</h2>
      <p className="help">{t('editor.paletteHelp')}</p>
      {categories.map((category) => {
        const inCategory = types.filter((x) => x.category === category)
        if (!inCategory.length) return null
        return (
          <section key={category} aria-label={lookup(`category.${category}`) ?? category}>
            <h3>{lookup(`category.${category}`) ?? category}</h3>
            <ul>
              {inCategory.map((nodeType) => {
                const name = lookup(`node.${nodeType.type}.name`) ?? nodeType.type
                const summary = lookup(`node.${nodeType.type}.summary`) ?? nodeType.summary
                return (
                  <li key={nodeType.type}>
                    <button type="button" className="palette-item" draggable
                      data-testid={`palette-${nodeType.type}`} title={summary}
                      onDragStart={(e) => {
                        e.dataTransfer.setData(NODE_MIME, nodeType.type)
                        e.dataTransfer.effectAllowed = 'move'
                      }}
                      onClick={() => onAdd(nodeType.type)}>
                      <span>{name}</span>
                    </button>
                  </li>
                )
              })}
            </ul>
          </section>
        )
      })}
    </nav>
  )
}
