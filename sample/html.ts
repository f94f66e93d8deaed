/** Tiny server-rendered pages: the sample needs no template engine. */
export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} - nestjs-cognito-lowlevel sample</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; color: #16191f; }
  .button { display: inline-block; background: #0972d3; color: #fff; padding: .6rem 1.2rem; border: 0; border-radius: 4px; text-decoration: none; font-size: 1rem; cursor: pointer; }
  dt { font-weight: 600; } dd { margin: 0 0 .5rem; }
  pre { background: #f2f3f3; padding: 1rem; border-radius: 4px; overflow-x: auto; font-size: .8rem; }
  .error { color: #b3261e; }
  p > .button + a { margin-left: .75rem; }
</style></head>
<body>${body}</body></html>`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** Sends HTML on Express or Fastify. */
export function sendHtml(response: any, status: number, html: string): void {
  if (typeof response.code === 'function') response.code(status).header('content-type', 'text/html; charset=utf-8').send(html);
  else response.status(status).type('html').send(html);
}

export function redirect(response: any, location: string): void {
  if (typeof response.code === 'function') response.code(302).redirect(location);
  else response.redirect(302, location);
}
