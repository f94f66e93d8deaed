/**
 * A conservative estimate of how many bits an attacker must guess to find a cookie secret,
 * in the spirit of zxcvbn: the secret is read as the cheapest sequence of pieces, each costed
 * as an attacker would enumerate it (a repeat of an earlier piece, a common word, a run such as
 * `abcd` or `1234`, or a character drawn from the alphabet the secret uses). Random secrets
 * (`openssl rand -base64 32`, 64 hex digits) score about 200 bits or more; `'changeme'` eight
 * times, `'a'` × 200 or a handful of words score far below the bar.
 *
 * @internal
 */
export function estimateSecretBits(input: string, { binary = false } = {}): number {
  // Past this length a secret has long passed the bar, or never will: bound the work at boot.
  const secret = input.slice(0, 256);
  const lower = secret.toLowerCase();
  if (binary) return cheapestReading(secret, lower, Math.log2(Math.min(256, new Set(secret).size * 4)));
  // Spaces in printable text mean words: a phrase carries about what English text does, far
  // below its alphabet.
  const isPhrase = secret.includes(' ') && /^[\x20-\x7e]+$/.test(secret);
  return cheapestReading(secret, lower, Math.min(isPhrase ? PHRASE_BITS_PER_CHARACTER : Infinity, Math.log2(alphabetSize(secret))));
}

/** The cheapest way to spell the secret out of pieces (dynamic programming over its prefixes). */
function cheapestReading(secret: string, lower: string, charBits: number): number {
  // best[i]: the cheapest cost of the first i characters.
  const best = new Float64Array(secret.length + 1).fill(Number.POSITIVE_INFINITY);
  best[0] = 0;
  for (let end = 1; end <= secret.length; end++) {
    best[end] = best[end - 1] + charBits;
    for (let start = Math.max(0, end - 64); start <= end - 2; start++) {
      const cost = pieceCost(secret, lower, start, end);
      if (cost !== undefined && best[start] + cost < best[end]) best[end] = best[start] + cost;
    }
  }
  return best[secret.length];
}

/** The cost of `secret[start, end)` as one guessable piece, or undefined when it is none. */
function pieceCost(secret: string, lower: string, start: number, end: number): number | undefined {
  const piece = lower.slice(start, end);
  let cost: number | undefined;
  // A copy of something earlier: the attacker names where it starts and how long it is.
  if (end - start >= 3 && lower.indexOf(piece) < start) {
    cost = Math.log2(start + 1) + Math.log2(end - start + 1);
  }
  if (COMMON_WORDS.has(piece)) {
    const casing = secret.slice(start, end) === piece ? 0 : 1;
    cost = Math.min(cost ?? Infinity, Math.log2(COMMON_WORDS.size) + casing);
  }
  if (end - start >= 3 && isRun(piece)) cost = Math.min(cost ?? Infinity, Math.log2(95) + Math.log2(end - start) + 1);
  return cost;
}

/** `abcd`, `4321`, `aaaa`, `qwerty`: each character a fixed step from the one before. */
function isRun(piece: string): boolean {
  const keyboard = KEYBOARD_ROWS.some((row) => row.includes(piece) || [...row].reverse().join('').includes(piece));
  if (keyboard) return true;
  const step = piece.charCodeAt(1) - piece.charCodeAt(0);
  if (Math.abs(step) > 1) return false;
  for (let index = 2; index < piece.length; index++) if (piece.charCodeAt(index) - piece.charCodeAt(index - 1) !== step) return false;
  return true;
}

/** Generous for English text, which carries 1 to 1.5 bits a character. */
const PHRASE_BITS_PER_CHARACTER = 2.5;

/**
 * The lower of the estimates for the secret as written and for what it encodes, where that
 * tells more: hex is read as the bytes it spells (`000102…1f` is a run), base64 that decodes to
 * text as that text (`base64("changeme changeme")` is no better than what it encodes). Base64
 * that decodes to other bytes is judged as written: any string of letters and digits decodes,
 * and a random one must not be refused for the accident.
 *
 * @internal
 */
export function estimateKeyBits(secret: string): number {
  const written = estimateSecretBits(secret);
  const hex = secret.replace(/[-:]/g, '');
  if (/^[0-9a-f]+$/i.test(hex) && hex.length % 2 === 0 && /[0-9]/.test(hex) && /[a-f]/i.test(hex)) {
    return Math.min(written, estimateSecretBits(Buffer.from(hex, 'hex').toString('latin1'), { binary: true }));
  }
  if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(secret) && secret.length % 4 !== 1) {
    const decoded = Buffer.from(secret, /[-_]/.test(secret) ? 'base64url' : 'base64').toString('latin1');
    if (decoded.length >= 16 && /^[\x20-\x7e]+$/.test(decoded)) return Math.min(written, estimateSecretBits(decoded));
  }
  return written;
}

/** The classes of characters the secret draws on, capped by how many distinct ones it shows. */
function alphabetSize(secret: string): number {
  if (/^[0-9]+$/.test(secret)) return Math.max(2, Math.min(10, new Set(secret).size * 2));
  let classes = 0;
  if (/[a-z]/.test(secret)) classes += 26;
  if (/[A-Z]/.test(secret)) classes += 26;
  if (/[0-9]/.test(secret)) classes += 10;
  if (/[^a-zA-Z0-9]/.test(secret)) classes += 33;
  if (/^[0-9a-f]+$/.test(secret) || /^[0-9A-F]+$/.test(secret)) classes = 16;
  // Four characters used over and over are four characters, whatever their class.
  return Math.max(2, Math.min(classes, new Set(secret).size * 2));
}

/** QWERTY rows, and its columns walked top to bottom, left to right. */
const KEYBOARD_ROWS = ['`1234567890-=', 'qwertyuiop[]\\', "asdfghjkl;'", 'zxcvbnm,./', '1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/'];

/** Words people put in secrets, and what placeholder and example secrets are made of. */
const COMMON_WORDS = new Set(
  (
    'password passw0rd passwd pass secret secrets changeme change default letmein welcome admin administrator root ' +
    'qwerty azerty dragon monkey master login logon user username test testing tests example sample demo dev ' +
    'development prod production staging local localhost cookie cookies session sessions key keys token tokens ' +
    'cognito nestjs nest node express fastify app application my your our the and for with this that very super ' +
    'strong long random string value private public hidden insecure secure security crypto encrypt encryption ' +
    'please dont do not use replace me it here todo fixme foo bar baz qux hello world love sunshine shadow ' +
    'football baseball iloveyou trustno1 princess abc123 123456 12345678 123456789 password1 aws amazon'
  ).split(' '),
);
