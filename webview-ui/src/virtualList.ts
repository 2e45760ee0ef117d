/**
 * A windowed list: only the rows in view (plus a margin) exist in the DOM, so a
 * 100,000-entry archive scrolls smoothly. vscode-table renders every row it is given
 * (TESTBED.md), hence this. Rows have one fixed height; row elements are recycled.
 */
export class VirtualList<T> {
  private rows: readonly T[] = [];
  private readonly spacer: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private scheduled = false;

  constructor(
    readonly viewport: HTMLElement,
    private readonly rowHeight: number,
    private readonly renderRow: (row: HTMLElement, item: T, index: number) => void,
    private readonly overscan = 10,
  ) {
    this.spacer = document.createElement('div');
    this.spacer.className = 'vlist-spacer';
    viewport.appendChild(this.spacer);
    viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  setRows(rows: readonly T[]): void {
    this.rows = rows;
    this.spacer.style.height = `${rows.length * this.rowHeight}px`;
    this.viewport.setAttribute('aria-rowcount', String(rows.length));
    this.render();
  }

  get length(): number {
    return this.rows.length;
  }

  scrollToIndex(index: number): void {
    this.viewport.scrollTop = index * this.rowHeight;
    this.render();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  render(): void {
    const top = this.viewport.scrollTop;
    // Before layout (hidden panel) clientHeight is 0: render one screenful anyway.
    const height = this.viewport.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowHeight) - this.overscan);
    const last = Math.min(this.rows.length, Math.ceil((top + height) / this.rowHeight) + this.overscan);
    const needed = Math.max(0, last - first);
    while (this.pool.length < needed) {
      const row = document.createElement('div');
      row.className = 'vlist-row';
      row.setAttribute('role', 'row');
      row.style.height = `${this.rowHeight}px`;
      this.spacer.appendChild(row);
      this.pool.push(row);
    }
    while (this.pool.length > needed) this.pool.pop()!.remove();
    for (let i = 0; i < needed; i++) {
      const index = first + i;
      const row = this.pool[i];
      row.style.transform = `translateY(${index * this.rowHeight}px)`;
      row.setAttribute('aria-rowindex', String(index + 2)); // +1 for 1-based, +1 for the header row
      this.renderRow(row, this.rows[index], index);
    }
  }
}
