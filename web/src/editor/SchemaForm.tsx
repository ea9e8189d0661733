import { useEffect, useId, useState } from 'react'
import { useI18n } from '../i18n'
import { classify, durationText, emptyValue, resolve } from './schema'
import type { JsonSchema } from './schema'
import { LiquidText } from './LiquidText'

type Obj = Record<string, unknown>

interface FormProps {
  /** The node type's config schema (with its `$defs`). */
  schema: JsonSchema
  value: Obj
  onChange: (value: Obj) => void
  /** Problems from validation, by field path relative to the config (`buttons.0.title`). */
  problems: Record<string, string[]>
}

/** A form generated from a node type's JSON schema. */
export function SchemaForm({ schema, value, onChange, problems }: FormProps) {
  return (
    <ObjectFields schema={schema} root={schema} value={value} onChange={onChange} path=""
      problems={problems} />
  )
}

interface FieldProps {
  root: JsonSchema
  path: string
  problems: Record<string, string[]>
}

function useLabel(): (name: string, schema: JsonSchema) => string {
  const { lookup } = useI18n()
  return (name, schema) => lookup(`field.${name}`) ?? schema.title ?? name
}

function ObjectFields({ schema, root, value, onChange, path, problems }: FieldProps & {
  schema: JsonSchema
  value: Obj
  onChange: (value: Obj) => void
}) {
  const s = resolve(schema, root)
  const required = new Set(s.required ?? [])
  return (
    <>
      {Object.entries(s.properties ?? {}).map(([name, prop]) => (
        <Field key={name} name={name} schema={prop} root={root} required={required.has(name)}
          value={value[name]} path={path ? `${path}.${name}` : name} problems={problems}
          onChange={(next) => {
            const copy = { ...value }
            if (next === undefined) delete copy[name]
            else copy[name] = next
            onChange(copy)
          }} />
      ))}
    </>
  )
}

function Problems({ path, problems, id }: { path: string; problems: Record<string, string[]>; id: string }) {
  const list = problems[path]
  if (!list?.length) return null
  return (
    <span id={id} className="field-error" role="status">
      {list.join(' · ')}
    </span>
  )
}

function Field({ name, schema, root, required, value, onChange, path, problems }: FieldProps & {
  name: string
  schema: JsonSchema
  required: boolean
  value: unknown
  onChange: (value: unknown) => void
}) {
  const { t } = useI18n()
  const labelOf = useLabel()
  const id = useId()
  const errId = `${id}-err`
  const { field, nullable } = classify(schema, root, name)
  const plain = labelOf(name, resolve(schema, root))
  // What the server uses when the key is absent: shown, so "(none)" never hides a real choice.
  const fallback = schema.default !== undefined ? schema.default : resolve(schema, root).default
  const label = plain + (required ? ' *' : '')
  const hasProblems = Boolean(problems[path]?.length)
  const describedBy = hasProblems ? errId : undefined
  // Optional values are removed rather than stored empty, so the document stays minimal.
  const clear = required && !nullable ? '' : undefined

  switch (field.kind) {
    case 'const':
      return null
    case 'string': {
      const text = typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value)
      const set = (v: string) => onChange(v === '' ? clear : v)
      return (
        <label htmlFor={id}>
          {label}
          <LiquidText id={id} value={text} multiline={Boolean(field.multiline)} invalid={hasProblems}
            placeholder={!field.multiline && typeof fallback === 'string' ? fallback : undefined}
            describedBy={describedBy} onChange={set} />
          <Problems path={path} problems={problems} id={errId} />
        </label>
      )
    }
    case 'duration':
      return (
        <label htmlFor={id}>
          {label}
          <input id={id} type="text" value={durationText(value)} placeholder="7d, 2h, 1h30m"
            aria-invalid={hasProblems || undefined} aria-describedby={describedBy}
            onChange={(e) => onChange(e.target.value === '' ? clear : e.target.value)} />
          <Problems path={path} problems={problems} id={errId} />
        </label>
      )
    case 'number':
      return (
        <label htmlFor={id}>
          {label}
          <input id={id} type="number" step={field.integer ? 1 : 'any'}
            value={typeof value === 'number' ? value : ''} aria-describedby={describedBy}
            onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))} />
          <Problems path={path} problems={problems} id={errId} />
        </label>
      )
    case 'boolean':
      return (
        <label htmlFor={id} className="row">
          <input id={id} type="checkbox" checked={(value ?? fallback) === true}
            onChange={(e) => onChange(e.target.checked)} />
          <span>{labelOf(name, resolve(schema, root))}</span>
        </label>
      )
    case 'enum':
      return (
        <label htmlFor={id}>
          {label}
          <select id={id} value={(value ?? fallback) == null ? '' : String(value ?? fallback)}
            aria-describedby={describedBy}
            onChange={(e) => {
              const picked = field.options.find((o) => String(o) === e.target.value)
              onChange(e.target.value === '' ? undefined : picked)
            }}>
            {(nullable || (!required && fallback === undefined)) && <option value="">{t('form.none')}</option>}
            {field.options.map((o) => (
              <option key={String(o)} value={String(o)}>{String(o)}</option>
            ))}
          </select>
          <Problems path={path} problems={problems} id={errId} />
        </label>
      )
    case 'object': {
      const obj = value && typeof value === 'object' ? (value as Obj) : null
      return (
        <fieldset>
          <legend>{label}</legend>
          {obj ? (
            <>
              <ObjectFields schema={field.schema} root={root} value={obj} onChange={onChange}
                path={path} problems={problems} />
              {!required && (
                <button type="button" className="danger" onClick={() => onChange(undefined)}>
                  {t('form.remove')} {labelOf(name, field.schema)}
                </button>
              )}
            </>
          ) : (
            <button type="button" onClick={() => onChange(emptyValue(field.schema, root))}>
              {t('form.add')} {labelOf(name, field.schema)}
            </button>
          )}
          <Problems path={path} problems={problems} id={errId} />
        </fieldset>
      )
    }
    case 'array': {
      const items = Array.isArray(value) ? value : []
      const itemSchema = resolve(field.items, root)
      const itemKind = classify(itemSchema, root, name).field
      return (
        <fieldset>
          <legend>{label}</legend>
          {items.map((item, i) => {
            const itemLabel = t('form.item', { n: i + 1 })
            const setItem = (next: unknown) => {
              const copy = [...items]
              copy[i] = next
              onChange(copy)
            }
            const remove = () => onChange(items.filter((_, j) => j !== i))
            return (
              <div key={i} className="array-item" role="group" aria-label={`${plain}: ${itemLabel}`}>
                {itemKind.kind === 'object' ? (
                  <ObjectFields schema={itemSchema} root={root} path={`${path}.${i}`}
                    problems={problems} value={(item ?? {}) as Obj} onChange={setItem} />
                ) : (
                  <Field name={name} schema={itemSchema} root={root} required value={item}
                    onChange={setItem} path={`${path}.${i}`} problems={problems} />
                )}
                <button type="button" className="danger" onClick={remove}
                  aria-label={`${t('form.remove')}: ${plain} ${itemLabel}`}>
                  {t('form.remove')}
                </button>
              </div>
            )
          })}
          <button type="button" onClick={() => onChange([...items, emptyValue(itemSchema, root)])}
            aria-label={`${t('form.add')}: ${plain}`}>
            {t('form.add')}
          </button>
          <Problems path={path} problems={problems} id={errId} />
        </fieldset>
      )
    }
    case 'map':
    case 'json':
      return (
        <JsonField id={id} label={label} value={value} onChange={onChange} path={path}
          problems={problems} describedBy={describedBy} errId={errId} />
      )
  }
}

/** Free-form values (key/value maps, nested conditions) edited as JSON text. */
function JsonField({ id, label, value, onChange, path, problems, errId }: {
  id: string
  label: string
  value: unknown
  onChange: (v: unknown) => void
  path: string
  problems: Record<string, string[]>
  describedBy?: string
  errId: string
}) {
  const { t } = useI18n()
  const serialised = value === undefined ? '' : JSON.stringify(value, null, 2)
  const [text, setText] = useState(serialised)
  const [bad, setBad] = useState(false)
  // Outside changes (undo, another field) replace the text unless it is being fixed.
  useEffect(() => {
    if (!bad) setText(serialised)
  }, [serialised, bad])
  return (
    <label htmlFor={id}>
      {t('form.json', { label })}
      <textarea id={id} value={text} spellCheck={false} className="mono"
        aria-invalid={bad || undefined} aria-describedby={bad ? `${id}-json` : errId}
        onChange={(e) => {
          setText(e.target.value)
          if (e.target.value.trim() === '') {
            setBad(false)
            onChange(undefined)
            return
          }
          try {
            onChange(JSON.parse(e.target.value))
            setBad(false)
          } catch {
            setBad(true)
          }
        }} />
      {bad && <span id={`${id}-json`} className="field-error">{t('form.invalidJson')}</span>}
      <Problems path={path} problems={problems} id={errId} />
    </label>
  )
}
