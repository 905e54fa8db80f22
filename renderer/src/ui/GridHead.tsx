/** The header row of a `table.grid`: each column is its label and an optional class (`l` = left-aligned text). */
export type GridColumn = readonly [label: string, className?: string];

export function GridHead({ cols }: { cols: readonly GridColumn[] }) {
  return (
    <thead>
      <tr>
        {cols.map(([label, className]) => (
          <th key={label} className={className}>
            {label}
          </th>
        ))}
      </tr>
    </thead>
  );
}
