import { invalid } from '../inputs/parse.js';

/** `200-399`, `200`, `2xx`, or a comma-separated list of those, as a predicate on a status. */
export function parseStatusSpec(inputName: string, spec: string): (status: number) => boolean {
  const ranges = spec.split(',').map((part) => {
    const p = part.trim();
    let m: RegExpExecArray | null;
    if ((m = /^([1-5])xx$/i.exec(p))) return [Number(m[1]) * 100, Number(m[1]) * 100 + 99] as const;
    if ((m = /^(\d{3})-(\d{3})$/.exec(p)) && Number(m[1]) <= Number(m[2])) return [Number(m[1]), Number(m[2])] as const;
    if ((m = /^(\d{3})$/.exec(p))) return [Number(m[1]), Number(m[1])] as const;
    throw invalid(inputName, "must be statuses like '200-399', '200', '2xx' or a comma-separated list of those", spec);
  });
  return (status) => ranges.some(([low, high]) => status >= low && status <= high);
}
