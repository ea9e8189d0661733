import { createContext, useContext, useId, useRef, useState } from 'react'
import type { KeyboardEvent } from 'react'
import { useI18n } from '../i18n'
import { insertVariable, suggestions, typedVariable } from './liquid'
import type { LiquidVar } from './liquid'

/** The variables of the node being edited; text fields inside offer them after `{{`. */
export const LiquidContext = createContext<LiquidVar[]>([])

interface Props {
  id: string
  value: string
  multiline: boolean
  placeholder?: string
  invalid?: boolean
  describedBy?: string
  onChange: (value: string) => void
}

/** A text input (or textarea) that offers Liquid variables while typing: type `{{` and pick
 * one with the arrow keys and Enter/Tab, or click it; Escape closes the list (ARIA combobox). */
export function LiquidText({ id, value, multiline, placeholder, invalid, describedBy, onChange }: Props) {
  const { t, lookup } = useI18n()
  const vars = useContext(LiquidContext)
  const listId = useId()
  const ref = useRef<HTMLInputElement & HTMLTextAreaElement>(null)
  const [caret, setCaret] = useState<number | null>(null)
  const [active, setActive] = useState(0)
  const [dismissed, setDismissed] = useState(false)
  const typed = caret === null ? null : typedVariable(value, caret)
  const options = typed && !dismissed ? suggestions(vars, typed.prefix) : []
  const open = options.length > 0

  const pick = (v: LiquidVar) => {
    if (caret === null) return
    const next = insertVariable(value, caret, v.path)
    onChange(next.text)
    setCaret(next.caret)
    requestAnimationFrame(() => {
      ref.current?.focus()
      ref.current?.setSelectionRange(next.caret, next.caret)
    })
  }
  const onKeyDown = (e: KeyboardEvent) => {
    if (!open) return
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault()
      const step = e.key === 'ArrowDown' ? 1 : -1
      setActive((a) => (a + step + options.length) % options.length)
    } else if (e.key === 'Enter' || e.key === 'Tab') {
      e.preventDefault()
      pick(options[Math.min(active, options.length - 1)])
    } else if (e.key === 'Escape') {
      e.preventDefault()
      setDismissed(true)
    }
  }
  const common = {
    id, ref, value, placeholder,
    role: 'combobox' as const,
    'aria-autocomplete': 'list' as const,
    'aria-expanded': open,
    'aria-controls': listId,
    'aria-activedescendant': open ? `${listId}-${Math.min(active, options.length - 1)}` : undefined,
    'aria-invalid': invalid || undefined,
    'aria-describedby': describedBy,
    onKeyDown,
    onBlur: () => setTimeout(() => setCaret(null), 150),
    onSelect: (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) => setCaret(e.currentTarget.selectionStart),
    onChange: (e: { target: HTMLInputElement | HTMLTextAreaElement }) => {
      setCaret(e.target.selectionStart)
      setActive(0)
      setDismissed(false)
      onChange(e.target.value)
    },
  }
  return (
    <span className="liquid">
      {multiline ? <textarea {...common} /> : <input type="text" {...common} />}
      <ul id={listId} role="listbox" aria-label={t('liquid.variables')} className="liquid-list" hidden={!open}>
        {options.map((v, i) => (
          <li key={v.path} id={`${listId}-${i}`} role="option" aria-selected={i === active}
            onMouseDown={(e) => {
              e.preventDefault()
              pick(v)
            }}>
            <code>{v.path}</code> <span className="help">{lookup(`liquid.${v.group}`) ?? v.group}</span>
          </li>
        ))}
      </ul>
    </span>
  )
}
