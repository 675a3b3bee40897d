// Interface strings (Spanish and English).
const es = {
  connected: 'Conectado',
  connecting: 'Conectando…',
  offline: 'Sin conexión — reconectando…',
  readOnly: 'Solo lectura',
  readOnlyConnected: 'Conectado — solo lectura',
  joinFailed: 'No se pudo abrir el documento',
  error: 'Error',
  you: '(tú)',
  nowhere: 'sin posición',
  anonymous: 'Anónimo',
  preamble: 'Preámbulo',
  untitled: '(sin encabezado)',
  outlineEmpty: 'El documento está vacío.',
  kinds: {
    title: 'Título', chapter: 'Capítulo', article: 'Artículo', paragraph: 'Apartado',
    subparagraph: 'Numeral', point: 'Fracción', indent: 'Inciso'
  },
  insert: 'Insertar',
  insertKind: k => 'Insertar ' + k.toLowerCase(),
  moveUp: 'Subir', moveUpLabel: 'Mover la unidad arriba (Alt+Flecha arriba)',
  moveDown: 'Bajar', moveDownLabel: 'Mover la unidad abajo (Alt+Flecha abajo)',
  sink: 'Hundir', sinkLabel: 'Bajar un nivel: hija de la unidad anterior (Tab)',
  lift: 'Elevar', liftLabel: 'Subir un nivel (Mayús+Tab)',
  del: 'Eliminar', delLabel: 'Eliminar la unidad con sus hijas (Ctrl+Mayús+Retroceso)',
  undo: 'Deshacer', undoLabel: 'Deshacer (Ctrl+Z)',
  redo: 'Rehacer', redoLabel: 'Rehacer (Ctrl+Mayús+Z)',
  pin: 'Fijar número', pinLabel: 'Fijar el número de la unidad (vacío lo quita)',
  pinPrompt: 'Número fijo para esta unidad (p. ej. «16 Bis»). Déjelo vacío para quitarlo:',
  dragHandle: 'Arrastrar para mover la unidad',
  structure: 'Estructura',
  edit: 'Editar'
}

const en = {
  connected: 'Connected',
  connecting: 'Connecting…',
  offline: 'Offline — reconnecting…',
  readOnly: 'Read only',
  readOnlyConnected: 'Connected — read only',
  joinFailed: 'Could not open the document',
  error: 'Error',
  you: '(you)',
  nowhere: 'no position',
  anonymous: 'Anonymous',
  preamble: 'Preamble',
  untitled: '(no heading)',
  outlineEmpty: 'The document is empty.',
  kinds: {
    title: 'Title', chapter: 'Chapter', article: 'Article', paragraph: 'Paragraph',
    subparagraph: 'Subparagraph', point: 'Point', indent: 'Indent'
  },
  insert: 'Insert',
  insertKind: k => 'Insert ' + k.toLowerCase(),
  moveUp: 'Up', moveUpLabel: 'Move unit up (Alt+Arrow Up)',
  moveDown: 'Down', moveDownLabel: 'Move unit down (Alt+Arrow Down)',
  sink: 'Sink', sinkLabel: 'Demote: make it a child of the previous unit (Tab)',
  lift: 'Lift', liftLabel: 'Promote one level (Shift+Tab)',
  del: 'Delete', delLabel: 'Delete the unit and its children (Ctrl+Shift+Backspace)',
  undo: 'Undo', undoLabel: 'Undo (Ctrl+Z)',
  redo: 'Redo', redoLabel: 'Redo (Ctrl+Shift+Z)',
  pin: 'Pin number', pinLabel: 'Pin the unit number (empty clears it)',
  pinPrompt: 'Pinned number for this unit (e.g. "16 Bis"). Leave empty to clear:',
  dragHandle: 'Drag to move the unit',
  structure: 'Structure',
  edit: 'Edit'
}

export function strings (lang) {
  return /^en/i.test(lang || '') ? en : es
}
