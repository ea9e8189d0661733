// React Flow measures its container; jsdom has neither of these.
class ResizeObserverStub {
  observe(): void {}
  unobserve(): void {}
  disconnect(): void {}
}
const g = globalThis as unknown as Record<string, unknown>
g.ResizeObserver ??= ResizeObserverStub
g.DOMMatrixReadOnly ??= class {
  m22 = 1
  constructor(_transform?: string) {}
}
