import { useEffect, useId, useMemo, useState } from 'react'
import type { FormEvent } from 'react'
import { ApiError } from '../api/client'
import { changedParameters, createFromTemplate, defaultFor, listTemplates } from '../api/templates'
import type { FlowTemplate, TemplateParameter } from '../api/templates'
import { useErrorText } from '../components'
import { useI18n } from '../i18n'
import type { Lang } from '../i18n'
import { navigate } from '../router'

const KIND_LABEL = {
  playbook: 'templates.kind.playbook', scene: 'templates.kind.scene', workflow: 'templates.kind.workflow',
} as const

/** The playbook library: pick a template, fill in its parameters, get a flow (a draft, or
 * published at once) and land in its editor. */
export function TemplateGallery() {
  const { t, pick } = useI18n()
  const errorText = useErrorText()
  const [templates, setTemplates] = useState<FlowTemplate[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [chosen, setChosen] = useState<FlowTemplate | null>(null)

  useEffect(() => {
    listTemplates().then(setTemplates, (err) => setError(t('templates.loadFailed', { message: errorText(err) })))
  }, [])

  if (chosen) return <TemplateForm template={chosen} onBack={() => setChosen(null)} />
  return (
    <section aria-labelledby="templates-title" className="templates">
      <h2 id="templates-title">{t('templates.title')}</h2>
      <p className="muted">{t('templates.intro')}</p>
      {error && <p role="alert" className="error">{error}</p>}
      {templates === null && !error && <p aria-busy="true">{t('app.loading')}</p>}
      <ul className="template-list">
        {templates?.map((tpl) => (
          <li key={tpl.id} className="card" data-testid={`template-${tpl.id}`}>
            <h3>{pick(tpl.name, tpl.id)} <span className="badge">{t(KIND_LABEL[tpl.kind])}</span></h3>
            <p>{pick(tpl.description, '')}</p>
            <p className="muted">
              {t('templates.kpis')}: {tpl.kpis.map((k) => pick(k.label, k.id)).join(' · ')}
            </p>
            <button type="button" className="primary" onClick={() => setChosen(tpl)}
              aria-label={`${t('templates.use')}: ${pick(tpl.name, tpl.id)}`}>
              {t('templates.use')}
            </button>
          </li>
        ))}
      </ul>
    </section>
  )
}

function TemplateForm({ template, onBack }: { template: FlowTemplate; onBack: () => void }) {
  const { t, pick, lang: uiLang } = useI18n()
  const errorText = useErrorText()
  const [flowLang, setFlowLang] = useState<Lang>(uiLang)
  const [name, setName] = useState(() => pick(template.name, template.id))
  const [values, setValues] = useState<Record<string, string>>({})
  const [publish, setPublish] = useState(true)
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<{ message: string; field: string | null } | null>(null)
  const params = useMemo(() => template.parameters.filter((p) => p.id !== 'language'), [template])
  const required = params.filter((p) => p.required)
  const optional = params.filter((p) => !p.required)
  const fieldError = error?.field?.startsWith('parameters.') ? error.field.slice(11) : null

  async function onSubmit(e: FormEvent) {
    e.preventDefault()
    setBusy(true)
    setError(null)
    try {
      const flow = await createFromTemplate(
        template.id, changedParameters(params, values, flowLang), name.trim() || null, publish)
      navigate({ name: 'flow', id: flow.id })
    } catch (err) {
      setError({ message: t('templates.createFailed', { message: errorText(err) }),
        field: err instanceof ApiError ? err.field : null })
    } finally {
      setBusy(false)
    }
  }

  const field = (param: TemplateParameter) => (
    <ParameterField key={`${param.id}-${flowLang}`} param={param}
      value={values[param.id] ?? defaultFor(param, flowLang)}
      invalid={fieldError === param.id ? error?.message ?? null : null}
      onChange={(text) => setValues((old) => ({ ...old, [param.id]: text }))} />
  )

  return (
    <section aria-labelledby="template-form-title" className="templates">
      <h2 id="template-form-title">{t('templates.formTitle', { name: pick(template.name, template.id) })}</h2>
      <p className="muted">{pick(template.description, '')}</p>
      <form onSubmit={(e) => void onSubmit(e)} className="template-form" data-testid="template-form">
        <label>
          {t('templates.flowName')}
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
        </label>
        <label>
          {t('templates.language')}
          <select value={flowLang} onChange={(e) => { setFlowLang(e.target.value as Lang); setValues({}) }}>
            <option value="es">Español</option>
            <option value="en">English</option>
          </select>
        </label>
        {required.map(field)}
        {optional.length > 0 && (
          <details open={optional.some((p) => p.id === fieldError)}>
            <summary>{t('templates.more', { count: optional.length })}</summary>
            {optional.map(field)}
          </details>
        )}
        <label className="check">
          <input type="checkbox" checked={publish} onChange={(e) => setPublish(e.target.checked)} />
          {t('templates.publish')}
        </label>
        {error && <p role="alert" className="error">{error.message}</p>}
        <div className="row">
          <button type="submit" className="primary" disabled={busy}>{t('templates.create')}</button>
          <button type="button" onClick={onBack}>{t('templates.back')}</button>
        </div>
      </form>
    </section>
  )
}

function ParameterField({ param, value, invalid, onChange }: {
  param: TemplateParameter
  value: string
  invalid: string | null
  onChange: (text: string) => void
}) {
  const { t, pick } = useI18n()
  const hintId = useId()
  const common = {
    value, 'aria-describedby': hintId, 'aria-invalid': invalid ? true : undefined,
    required: param.required, 'data-testid': `param-${param.id}`,
  }
  let input
  if (param.choices) {
    input = (
      <select {...common} onChange={(e) => onChange(e.target.value)}>
        {param.choices.map((c) => <option key={c} value={c}>{c}</option>)}
      </select>
    )
  } else if (param.schema.type === 'integer') {
    input = <input type="number" {...common} min={param.schema.minimum} max={param.schema.maximum}
      onChange={(e) => onChange(e.target.value)} />
  } else if (param.kind === 'text' && value.length > 60) {
    input = <textarea rows={3} {...common} onChange={(e) => onChange(e.target.value)} />
  } else {
    input = <input {...common} onChange={(e) => onChange(e.target.value)} />
  }
  return (
    <label>
      {pick(param.label, param.id)}
      {input}
      <small id={hintId} className="muted">
        {pick(param.description, '')}
        {param.schema.type === 'array' ? ` ${t('templates.commaList')}` : ''}
      </small>
      {invalid && <small className="error">{invalid}</small>}
    </label>
  )
}
