/**
 * One place that decides how property tests draw their cases.
 *
 * `npm test` (and CI) uses a fixed seed, so a red run is reproducible and a
 * landing is never decided by luck. `npm run test:fuzz` draws fresh seeds and
 * many more cases to look for new counterexamples; a failure prints its seed,
 * which `FAST_CHECK_SEED=<seed> npm run test:unit` replays.
 */
import fc from 'fast-check'

const FIXED_SEED = 20_261_125

function seedFromEnvironment(): number | undefined {
  const raw = process.env.FAST_CHECK_SEED?.trim()
  if (raw === undefined || raw === '') return FIXED_SEED
  if (raw === 'random') return undefined
  if (!/^-?\d+$/.test(raw))
    throw new Error(`FAST_CHECK_SEED: expected an integer or "random"; got ${raw}`)
  return Number(raw)
}

function scaleFromEnvironment(): number {
  const raw = process.env.FAST_CHECK_SCALE?.trim()
  if (raw === undefined || raw === '') return 1
  const scale = Number(raw)
  if (!(scale > 0)) throw new Error(`FAST_CHECK_SCALE: expected a positive number; got ${raw}`)
  return scale
}

const seed = seedFromEnvironment()
const scale = scaleFromEnvironment()
if (seed !== undefined) fc.configureGlobal({ seed })

/** The number of cases for a property: `base` under `npm test`, scaled up by `test:fuzz`. */
export function runs(base: number): number {
  return Math.max(1, Math.round(base * scale))
}

export { fc }
