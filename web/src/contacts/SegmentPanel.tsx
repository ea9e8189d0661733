import { useEffect, useId, useMemo, useState } from 'react'
import type { FormEvent } from 'react'
import { createSegment, previewSegment } from '../api/contacts'
import type { Segment } from '../api/contacts'
import type { ContactFieldDef } from '../api/simulator'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import { defaultValue, newRow, opsFor, segmentFields, toFilter, valueInput } from './segmentRules'
import type { FieldGroup, RuleRow, SegmentField } from './segmentRules'

const PREVIEW_DELAY_MS = 350
const GROUPS: FieldGroup[] = ['profile', 'score', 'tags', 'activity', 'attribution', 'consent', 'custom']

/** Segment builder: conditions (field, operator, value), the live count of contacts matching
 * (`POST /segments/preview`), and save (`POST /segments`). */
export function SegmentPanel({ fields, onSaved }: { fields: ContactFieldDef[]; onSaved: (segment: Segment) => void }) {
  const { t, lookup } = useI18n()
  const errorText = useErrorText()
  const ids = { name: useId(), match: useId() }
  const base = useId()
  const catalogue = useMemo(() => segmentFields(fields), [fields])
  const first = catalogue.find((f) => f.field === 'tags') ?? catalogue[0]
  const [name, setName] = useState('')
  const [match, setMatch] = useState<'all' | 'any'>('all')
  const [rows, setRows] = useState<RuleRow[]>([newRow(first)])
  const [count, setCount] = useState<number | null>(null)
  const [problem, setProblem] = useState<string | null>(null)
  const [error, setError] = useState<string | null>(null)

  const { filter, incomplete } = toFilter(match, rows, catalogue)
  const key = JSON.stringify(filter)
  useEffect(() => {
    let live = true
    const timer = window.setTimeout(() => {
      previewSegment(filter).then(
        (res) => { if (live) { setCount(res.count); setProblem(null) } },
        (err) => { if (live) { setCount(null); setProblem(errorText(err)) } },
      )
    }, PREVIEW_DELAY_MS)
    return () => { live = false; window.clearTimeout(timer) }
  }, [key]) // eslint-disable-line

  const fieldOf = (field: string): SegmentField => catalogue.find((f) => f.field === field) ?? first
  const fieldLabel = (f: SegmentField) => f.label ?? lookup(`contacts.attr.${f.field}`) ?? f.field
  const update = (i: number, next: RuleRow) => setRows(rows.map((r, j) => (j === i ? next : r)))
  const save = async (e: FormEvent) => {
    e.preventDefault()
    setError(null)
    try {
      const saved = await createSegment(name.trim(), filter)
      setName('')
      onSaved(saved)
    } catch (err) {
      setError(t('contacts.segment.saveFailed', { message: errorText(err) }))
    }
  }

  return (
    <form onSubmit={(e) => void save(e)} data-testid="segment-builder">
      <div className="toolbar">
        <label htmlFor={ids.name}>
          {t('contacts.segment.name')}
          <input id={ids.name} value={name} required maxLength={200} onChange={(e) => setName(e.target.value)} />
        </label>
        <div className="field">
          <label htmlFor={ids.match}>{t('contacts.segment.match')}</label>
          <select id={ids.match} style={{ width: 'auto' }} value={match} onChange={(e) => setMatch(e.target.value as 'all' | 'any')}>
            <option value="all">{t('contacts.segment.matchAll')}</option>
            <option value="any">{t('contacts.segment.matchAny')}</option>
          </select>
        </div>
      </div>
      <ol style={{ paddingLeft: 0, listStyle: 'none' }}>
        {rows.map((row, i) => {
          const field = fieldOf(row.field)
          const input = valueInput(field.kind, row.op)
          const n = i + 1
          return (
            <li key={i} className="toolbar" data-testid="segment-rule">
              <div className="field">
                <label htmlFor={`${base}-field-${i}`}>{t('contacts.segment.field', { n })}</label>
                <select id={`${base}-field-${i}`} value={row.field} onChange={(e) => update(i, newRow(fieldOf(e.target.value)))}>
                  {GROUPS.map((group) => {
                    const inGroup = catalogue.filter((f) => f.group === group)
                    return inGroup.length === 0 ? null : (
                      <optgroup key={group} label={lookup(`contacts.segment.group.${group}`) ?? group}>
                        {inGroup.map((f) => <option key={f.field} value={f.field}>{fieldLabel(f)}</option>)}
                      </optgroup>
                    )
                  })}
                </select>
              </div>
              <div className="field">
                <label htmlFor={`${base}-op-${i}`}>{t('contacts.segment.op', { n })}</label>
                <select id={`${base}-op-${i}`} value={row.op} onChange={(e) => update(i, { ...row, op: e.target.value, value: valueInput(field.kind, e.target.value) === input ? row.value : defaultValue(field, e.target.value) })}>
                  {opsFor(field.kind).map((op) => <option key={op} value={op}>{lookup(`contacts.segment.op.${op}`) ?? op}</option>)}
                </select>
              </div>
              {input !== 'none' && (
                <div className="field">
                  <label htmlFor={`${base}-value-${i}`}>{t(input === 'days' ? 'contacts.segment.days' : 'contacts.segment.value', { n })}</label>
                  {input === 'bool' || input === 'consent' || input === 'choice' ? (
                    <select id={`${base}-value-${i}`} value={row.value} onChange={(e) => update(i, { ...row, value: e.target.value })}>
                      {(input === 'bool' ? ['true', 'false'] : input === 'consent' ? ['opted_in', 'opted_out'] : field.choices ?? []).map((v) => (
                        <option key={v} value={v}>{lookup(`contacts.segment.value.${v}`) ?? v}</option>
                      ))}
                    </select>
                  ) : (
                    <input
                      id={`${base}-value-${i}`}
                      type={input === 'number' || input === 'days' ? 'number' : input === 'date' ? 'date' : 'text'}
                      value={row.value}
                      placeholder={input === 'list' ? t('contacts.segment.listHint') : undefined}
                      onChange={(e) => update(i, { ...row, value: e.target.value })}
                    />
                  )}
                </div>
              )}
              <button type="button" aria-label={t('contacts.segment.remove', { n })} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                ✕
              </button>
            </li>
          )
        })}
      </ol>
      <div className="toolbar">
        <button type="button" onClick={() => setRows([...rows, newRow(first)])}>{t('contacts.segment.add')}</button>
        <button type="submit" className="primary" disabled={!name.trim() || problem !== null}>{t('contacts.segment.save')}</button>
      </div>
      <p role="status" data-testid="segment-count">
        {problem ?? (count === null ? t('app.loading') : t('contacts.segment.count', { count }))}
        {incomplete > 0 && ` ${t('contacts.segment.incomplete', { count: incomplete })}`}
      </p>
      {error && <p role="alert" className="error">{error}</p>}
    </form>
  )
}
