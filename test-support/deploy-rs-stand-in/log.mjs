// @ts-check
/**
 * deploy-rs's log line format (serokell/deploy-rs src/lib.rs `logger_formatter_deploy`,
 * `_activate`, `_wait`, `_revoke`, `make_emoji`, `init_logger`): `<source emoji> <level emoji>
 * [<source>] [<LEVEL>] message`, the level word always wrapped in a 256-colour
 * ANSI code (flexi_logger palette 196;208;51;7;8), terminal or not. All of
 * deploy's own lines go to stderr.
 */

/** @typedef {'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'TRACE'} Level */
/** @typedef {'deploy' | 'activate' | 'wait' | 'revoke'} Source */

/** @type {Record<Level, { emoji: string, colour: number, rank: number }>} */
const LEVELS = {
  ERROR: { emoji: '\u274C', colour: 196, rank: 1 }, // ❌
  WARN: { emoji: '\u26A0\uFE0F', colour: 208, rank: 2 }, // ⚠️
  INFO: { emoji: '\u2139\uFE0F', colour: 51, rank: 3 }, // ℹ️
  DEBUG: { emoji: '\u2753', colour: 7, rank: 4 }, // ❓
  TRACE: { emoji: '\u{1F58A}\uFE0F', colour: 8, rank: 5 } // 🖊️
}

/** @type {Record<Source, string>} */
const SOURCES = {
  deploy: '\u{1F680}', // 🚀
  activate: '\u2B50', // ⭐
  wait: '\u{1F440}', // 👀
  revoke: '\u21A9\uFE0F' // ↩️
}

/**
 * @param {Source} source
 * @param {Level} level
 * @param {string} message
 */
export function formatLine(source, level, message) {
  const { emoji, colour } = LEVELS[level]
  return `${SOURCES[source]} ${emoji} [${source}] [\x1b[38;5;${colour}m${level}\x1b[0m] ${message}`
}

/**
 * Most verbose level printed: RUST_LOG when it is a plain level, else info (debug with -d).
 * @param {boolean} debugLogs
 */
function threshold(debugLogs) {
  const fromEnv = (process.env.RUST_LOG ?? '').trim().toUpperCase()
  if (fromEnv === 'OFF') return 0
  if (fromEnv in LEVELS) return LEVELS[/** @type {Level} */ (fromEnv)].rank
  return debugLogs ? LEVELS.DEBUG.rank : LEVELS.INFO.rank
}

export class DeployLog {
  /** @param {boolean} debugLogs */
  constructor(debugLogs) {
    this.max = threshold(debugLogs)
  }

  /** @param {Level} level @param {string} message */
  line(level, message) {
    if (LEVELS[level].rank > this.max) return
    process.stderr.write(formatLine('deploy', level, message) + '\n')
  }

  /** @param {string} message */
  info(message) {
    this.line('INFO', message)
  }

  /** @param {string} message */
  warn(message) {
    this.line('WARN', message)
  }

  /** @param {string} message */
  debug(message) {
    this.line('DEBUG', message)
  }

  /** @param {string} message */
  error(message) {
    this.line('ERROR', message)
  }
}
