/**
 * Admin → Instruments: list a new instrument, halt and resume trading. Prices are typed as money ("0.01",
 * "100.00") and the price band as a percentage ("10" = ±10%), all read exactly into integers.
 */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { InstrumentView } from '../data/types.js';
import { keys, useInstruments, useLive } from '../data/live.js';
import { formatPrice, formatQty, parsePrice, parseQty, type ParseResult } from '../format/num.js';
import { ConfirmBar, Loaded, Notice, type NoticeState } from './parts.js';

export function Instruments() {
  const live = useLive();
  const qc = useQueryClient();
  const list = useInstruments();
  const [notice, setNotice] = useState<NoticeState>();
  const [halting, setHalting] = useState<InstrumentView>();
  const status = useMutation({
    mutationFn: (c: { symbol: string; status: 'open' | 'halted' }) => live.conn.call('admin.instrument.setStatus', c),
    onSuccess: (i) => {
      setNotice({ ok: true, text: i.status === 'halted' ? `${i.symbol} is halted: new orders and changes are refused until it resumes.` : `${i.symbol} is open for trading again.` });
      setHalting(undefined);
    },
    onError: (e: Error) => setNotice({ ok: false, text: e.message }),
    onSettled: () => void qc.invalidateQueries({ queryKey: keys.instruments }),
  });
  return (
    <div className="admin-body">
      <CreateInstrument onCreated={(i) => setNotice({ ok: true, text: `${i.symbol} is listed: ${i.name}, reference ${formatPrice(i.referencePrice)}, band ${formatPrice(i.bandLow)}–${formatPrice(i.bandHigh)}.` })} />
      {halting !== undefined && (
        <ConfirmBar
          text={`Halt ${halting.symbol}? New orders and changes are refused until it resumes; working orders stay on the book and can be canceled.`}
          busy={status.isPending}
          actions={[{ label: 'Halt', cls: 'danger', run: () => status.mutate({ symbol: halting.symbol, status: 'halted' }) }]}
          onCancel={() => setHalting(undefined)}
        />
      )}
      <Notice notice={notice} />
      <Loaded q={list} what="the instruments" empty="No instruments yet: list the first one above.">
        {(rows) => (
          <table className="grid" data-testid="admin-instruments">
            <thead>
              <tr>
                <th className="l">Symbol</th>
                <th className="l">Name</th>
                <th className="l">Status</th>
                <th>Reference</th>
                <th>Band</th>
                <th>Prev. close</th>
                <th>Tick</th>
                <th>Lot</th>
                <th className="l">Actions</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((i) => (
                <tr key={i.symbol} data-testid="admin-instrument" data-symbol={i.symbol} data-status={i.status} className={halting?.symbol === i.symbol ? 'sel' : ''}>
                  <td className="l sym">{i.symbol}</td>
                  <td className="l">{i.name}</td>
                  <td className="l">{i.status === 'halted' ? <span className="down">Halted</span> : 'Open'}</td>
                  <td className="num">{formatPrice(i.referencePrice)}</td>
                  <td className="num">
                    {formatPrice(i.bandLow)}–{formatPrice(i.bandHigh)}
                  </td>
                  <td className="num">{formatPrice(i.previousClose)}</td>
                  <td className="num">{formatPrice(i.tickSize)}</td>
                  <td className="num">{formatQty(i.lotSize)}</td>
                  <td className="l">
                    <div className="actions">
                      {i.status === 'halted' ? (
                        <button type="button" className="btn tiny" disabled={status.isPending} onClick={() => status.mutate({ symbol: i.symbol, status: 'open' })}>
                          Resume
                        </button>
                      ) : (
                        <button type="button" className="btn tiny danger" disabled={status.isPending || halting !== undefined} onClick={() => setHalting(i)}>
                          Halt
                        </button>
                      )}
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </div>
  );
}

function CreateInstrument({ onCreated }: { onCreated: (i: InstrumentView) => void }) {
  const live = useLive();
  const qc = useQueryClient();
  const [f, setF] = useState({ symbol: '', name: '', tick: '0.01', lot: '1', reference: '', band: '10' });
  const [error, setError] = useState<string>();
  const create = useMutation({
    mutationFn: (spec: { symbol: string; name: string; tickSize: number; lotSize: number; referencePrice: number; bandBps: number }) => live.conn.call('admin.instrument.create', spec),
    onSuccess: (i) => {
      onCreated(i);
      setF((x) => ({ ...x, symbol: '', name: '', reference: '' }));
      void qc.invalidateQueries({ queryKey: keys.instruments });
    },
    onError: (e: Error) => setError(e.message),
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    const read = (what: string, r: ParseResult): number => {
      if (!r.ok) throw new Error(`${what}: ${r.error}`);
      return r.value;
    };
    try {
      create.mutate({
        symbol: f.symbol.trim().toUpperCase(),
        name: f.name.trim(),
        tickSize: read('Tick', parsePrice(f.tick)),
        lotSize: read('Lot', parseQty(f.lot)),
        referencePrice: read('Reference price', parsePrice(f.reference)),
        // a percentage with up to two decimals is basis points times one hundred: parsePrice reads it exactly
        bandBps: read('Band', parsePrice(f.band)),
      });
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const field = (k: keyof typeof f, label: string, placeholder: string, width: number) => (
    <input aria-label={label} placeholder={placeholder} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })} style={{ width }} autoComplete="off" />
  );
  return (
    <form className="toolbar admin-create" onSubmit={submit} data-testid="admin-create-instrument">
      <strong>New instrument</strong>
      {field('symbol', 'Symbol', 'SYMBOL', 90)}
      {field('name', 'Name', 'name', 160)}
      <label className="muted">
        tick {field('tick', 'Tick size', '0.01', 60)}
      </label>
      <label className="muted">
        lot {field('lot', 'Lot size', '1', 50)}
      </label>
      <label className="muted">
        reference {field('reference', 'Reference price', '100.00', 80)}
      </label>
      <label className="muted">
        band ± {field('band', 'Band percent', '10', 45)} %
      </label>
      <button type="submit" className="btn small primary" disabled={create.isPending || f.symbol.trim() === '' || f.name.trim() === '' || f.reference.trim() === ''}>
        List
      </button>
      {error !== undefined && (
        <span className="field-error" role="alert" data-testid="admin-instrument-error">
          {error}
        </span>
      )}
    </form>
  );
}
