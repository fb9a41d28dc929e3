/**
 * publisher — the editor's panel in the block editor (plain JavaScript on WordPress's own wp.*
 * packages, no build step; loaded by editor.php on post screens).
 *
 * - A document settings panel "publisher": meta title, meta description and focus keyphrase,
 *   editable, with live character and pixel counters and a Google-style result; the facts to
 *   verify, the checks with their advice, the sources, word count and model cost (read from the
 *   publisher_report meta that publisher writes at push).
 * - Review: while a draft has facts to verify and no review is recorded, a notice at the top of
 *   the editor, and a pre-publish panel whose checkbox must be ticked before publishing; ticking
 *   it writes publisher_review ({"user","name","time"}), saved with the publish request (the
 *   companion checks it server side too).
 */
(function (wp, config) {
	'use strict';
	if (!wp || !wp.plugins || !wp.data || !wp.element) {
		return;
	}
	const el = wp.element.createElement;
	const { useEffect, useMemo, Fragment } = wp.element;
	const { useSelect, useDispatch } = wp.data;
	const { __, sprintf } = wp.i18n;
	const { TextControl, TextareaControl, CheckboxControl } = wp.components;
	// WordPress 6.6 moved the slot-fills to wp.editor; 6.1–6.5 have them in wp.editPost.
	const slots = wp.editor && wp.editor.PluginDocumentSettingPanel ? wp.editor : wp.editPost;
	const { PluginDocumentSettingPanel, PluginPrePublishPanel } = slots;
	const PLUGIN = 'publisher';
	const PANEL = 'publisher-panel';
	const NOTICE = 'publisher-facts';
	const LOCK = 'publisher-facts';
	const OWN = { title: 'publisher_meta_title', description: 'publisher_meta_description',
		keyphrase: 'publisher_focus_keyphrase' };
	const SEO_KEYS = {
		yoast: { title: '_yoast_wpseo_title', description: '_yoast_wpseo_metadesc',
			keyphrase: '_yoast_wpseo_focuskw' },
		rankmath: { title: 'rank_math_title', description: 'rank_math_description',
			keyphrase: 'rank_math_focus_keyword' },
	};
	config = config || {};
	const RULES = rulesFrom(config.rules);

	// --- thresholds and wording: rules.json, exported from publisher/seo/rules.py -------------

	/** rules.json when present; else the same numbers and wording as publisher/seo/rules.py, so
	 * the panel never shows thresholds of its own. */
	function rulesFrom(raw) {
		const r = raw && typeof raw === 'object' ? raw : {};
		const t = r.title || {};
		const d = r.description || {};
		const w = r.wording || {};
		const num = (value, fallback) => (typeof value === 'number' ? value : fallback);
		return {
			titleMaxChars: num(t.max_chars, 60), titleMaxPx: num(t.max_px, 600),
			titleFontPx: num(t.font_px, 20),
			descMinChars: num(d.min, 120), descMaxChars: num(d.max, 156),
			descCutChars: num(d.cut_chars, 160), descMaxPx: num(d.cut_px, 920),
			descFontPx: num(d.font_px, 14),
			titleNote: w.title_note ||
				'Titre SEO : {chars} caractères (max. {max_chars}), {px} px (max. {max_px} px)',
			descriptionNote: w.description_note ||
				'Méta-description : {chars} caractères (recommandé : {min} à {max})',
			titleCut: w.title_cut_note || ' — coupé par Google',
			descriptionCut: w.description_cut_note || ' — coupée par Google',
			status: w.status || { bad: ['Problèmes', 'problème', 'problèmes'],
				ok: ['Améliorations', 'amélioration', 'améliorations'],
				good: ['Bons résultats', 'bon résultat', 'bons résultats'] },
			arial: r.arial_units || null,
		};
	}

	/** "{name}" placeholders, as str.format fills them in Python. */
	function fill(template, values) {
		return template.replace(/\{(\w+)\}/g, (all, name) => (name in values ? values[name] : all));
	}

	// --- Google's result: measured in Arial like the SERP (and publisher/seo/width.py) -------

	let canvas = null;
	let canvasIsArial = null;

	function canvasWidth(text, sizePx) {
		canvas = canvas || document.createElement('canvas');
		const ctx = canvas.getContext('2d');
		ctx.font = sizePx + 'px Arial, "Liberation Sans", Arimo, Helvetica, sans-serif';
		return ctx.measureText(text).width;
	}

	/** Arial's advance widths from rules.json, accents on their base letter (as Python does). */
	function unitsWidth(text, sizePx) {
		const units = RULES.arial;
		let total = 0;
		for (const ch of text) {
			const base = ch.normalize('NFD')[0];
			total += units.chars[ch] || units.chars[base] || units.default;
		}
		return total * sizePx / 1000;
	}

	/** The canvas when this browser has Arial's metrics; else the table publisher measures
	 * with, so the editor's numbers never depend on the fonts of their machine. */
	function textWidth(text, sizePx) {
		if (!RULES.arial) {
			return canvasWidth(text, sizePx);
		}
		if (canvasIsArial === null) {
			canvasIsArial = Math.abs(canvasWidth('Hello, Wörld', 20) - unitsWidth('Hello, Wörld', 20)) <= 1;
		}
		return canvasIsArial ? canvasWidth(text, sizePx) : unitsWidth(text, sizePx);
	}

	/** The text as Google shows it: whole if it fits, else cut at a word and ended by " …". */
	function cut(text, maxPx, sizePx, maxChars) {
		const whole = String(text || '').split(/\s+/).join(' ').trim();
		const limit = maxChars || 10000;
		if (textWidth(whole, sizePx) <= maxPx && whole.length <= limit) {
			return { text: whole, cut: false };
		}
		let shown = '';
		for (const word of whole.split(' ')) {
			const candidate = (shown + ' ' + word).trim();
			if (textWidth(candidate + ' …', sizePx) > maxPx || candidate.length + 2 > limit) {
				break;
			}
			shown = candidate;
		}
		if (!shown) {
			shown = whole;
			while (shown && textWidth(shown + ' …', sizePx) > maxPx) {
				shown = shown.slice(0, -1);
			}
		}
		return { text: shown.replace(/[ ,;:.\-–—]+$/, '') + ' …', cut: true };
	}

	// --- data ------------------------------------------------------------------------------

	function parseJson(raw) {
		if (typeof raw !== 'string' || !raw.trim()) {
			return null;
		}
		try {
			const value = JSON.parse(raw);
			return value && typeof value === 'object' ? value : null;
		} catch (e) {
			return null;
		}
	}

	/** Each fact to verify as {claim, passage, source}: the report lists the untraceable figures
	 * and quotations as text, with the nearest source sentence of each at the same place in
	 * `passages` (or as objects carrying it). */
	function factsOf(report) {
		if (!report) {
			return [];
		}
		const items = report.facts_to_verify || report.facts || report.untraceable || [];
		const passages = Array.isArray(report.passages) ? report.passages : [];
		return (Array.isArray(items) ? items : []).map((item, i) => {
			if (!item || typeof item !== 'object') {
				return { claim: String(item), passage: String(passages[i] || ''), source: '' };
			}
			return { claim: String(item.claim || item.text || ''),
				passage: String(item.passage || item.nearest || ''),
				source: String(item.source || item.url || '') };
		}).filter((fact) => fact.claim);
	}

	/** Everything the panels read, as strings: useSelect compares them shallowly, so typing in
	 * the article does not re-render the panel or parse the report again. */
	function usePost() {
		const raw = useSelect((select) => {
			const editor = select('core/editor');
			const meta = editor.getEditedPostAttribute('meta') || {};
			const saved = editor.getCurrentPostAttribute('meta') || {};
			return { report: meta.publisher_report, review: meta.publisher_review,
				savedReview: saved.publisher_review, ai: meta.publisher_ai,
				toVerify: meta.publisher_to_verify === '1',
				seoTitle: seoValue(meta, 'title'), seoDescription: seoValue(meta, 'description'),
				seoKeyphrase: seoValue(meta, 'keyphrase'),
				title: editor.getEditedPostAttribute('title') || '',
				excerpt: editor.getEditedPostAttribute('excerpt') || '',
				slug: editor.getEditedPostAttribute('slug') || '',
				status: editor.getEditedPostAttribute('status') };
		}, []);
		const report = useMemo(() => parseJson(raw.report), [raw.report]);
		const facts = useMemo(() => factsOf(report), [report]);
		return { ...raw, report, facts, review: parseJson(raw.review),
			savedReview: parseJson(raw.savedReview), ai: parseJson(raw.ai) };
	}

	/** Facts to verify and no review, neither saved nor ticked in this session. */
	function needsReview(post) {
		return (post.facts.length > 0 || post.toVerify) && !post.review;
	}

	/** The value that takes effect: the active SEO plugin's key (publisher's own when that one
	 * is empty), publisher's own key when no SEO plugin is active (the companion outputs it). */
	function seoValue(meta, field) {
		const active = SEO_KEYS[config.seoPlugin];
		const value = (active && meta[active[field]]) || meta[OWN[field]];
		return typeof value === 'string' ? value : '';
	}

	/** Publisher's own key always; the active SEO plugin's key too, so that plugin shows it. */
	function seoEdits(field, value) {
		const edits = { [OWN[field]]: value };
		const plugin = SEO_KEYS[config.seoPlugin];
		if (plugin) {
			edits[plugin[field]] = value;
		}
		return edits;
	}

	// --- the document panel ----------------------------------------------------------------

	function counter(className, text, status) {
		return el('p', { className: 'publisher-counter ' + className + ' is-' + status,
			'aria-live': 'polite', style: { margin: '-8px 0 12px', fontSize: '12px',
				color: { good: '#1e7e34', ok: '#b26200', bad: '#cc1818' }[status] } }, text);
	}

	function titleCounter(value) {
		const px = Math.round(textWidth(value, RULES.titleFontPx));
		const fits = value.length > 0 && value.length <= RULES.titleMaxChars && px <= RULES.titleMaxPx;
		const note = fill(RULES.titleNote, { chars: value.length, max_chars: RULES.titleMaxChars,
			px, max_px: Math.round(RULES.titleMaxPx) });
		return counter('publisher-title-counter',
			note + (px > RULES.titleMaxPx ? RULES.titleCut : ''), fits ? 'good' : 'bad');
	}

	/** Orange, not red, outside the range: a description Google cuts still shows its start. */
	function descriptionCounter(value) {
		const px = Math.round(textWidth(value, RULES.descFontPx));
		const n = value.length;
		const cutByGoogle = px > RULES.descMaxPx || n > RULES.descCutChars;
		const inRange = n >= RULES.descMinChars && n <= RULES.descMaxChars && !cutByGoogle;
		const note = fill(RULES.descriptionNote, { chars: n, min: RULES.descMinChars,
			max: RULES.descMaxChars });
		const width = sprintf(__(', %1$d px (Google coupe vers %2$d px)', 'publisher-companion'),
			px, RULES.descMaxPx);
		return counter('publisher-description-counter',
			note + width + (cutByGoogle ? RULES.descriptionCut : ''),
			n === 0 ? 'bad' : (inRange ? 'good' : 'ok'));
	}

	function SeoFields({ post }) {
		const { editPost } = useDispatch('core/editor');
		const set = (field) => (value) => editPost({ meta: seoEdits(field, value) });
		const title = post.seoTitle;
		const description = post.seoDescription;
		return el(Fragment, null,
			el(TextControl, { label: __('Titre SEO', 'publisher-companion'), value: title,
				className: 'publisher-meta-title', onChange: set('title') }),
			titleCounter(title),
			el(TextareaControl, { label: __('Méta-description', 'publisher-companion'), rows: 4,
				value: description, className: 'publisher-meta-description',
				onChange: set('description') }),
			descriptionCounter(description),
			el(TextControl, { label: __('Requête cible', 'publisher-companion'),
				value: post.seoKeyphrase, className: 'publisher-focus-keyphrase',
				onChange: set('keyphrase') }));
	}

	function hostOf(url) {
		try {
			return new URL(url).host.replace(/^www\./, '');
		} catch (e) {
			return '';
		}
	}

	function Serp({ post }) {
		const site = config.siteUrl || '';
		const title = cut(post.seoTitle || post.title, RULES.titleMaxPx,
			RULES.titleFontPx);
		const desc = cut(post.seoDescription || post.excerpt, RULES.descMaxPx,
			RULES.descFontPx, RULES.descCutChars);
		const crumbs = site.replace(/\/$/, '') + (post.slug ? ' › ' + post.slug : '');
		const arial = 'Arial, "Liberation Sans", Arimo, sans-serif';
		return el('div', { className: 'publisher-serp', 'aria-label': __('Aperçu dans Google', 'publisher-companion'),
			style: { fontFamily: arial, border: '1px solid #dcdcde', borderRadius: '8px',
				padding: '10px', margin: '4px 0 16px', background: '#fff', overflowWrap: 'anywhere' } },
			el('div', { style: { fontSize: '12px', color: '#202124' } }, config.siteName || hostOf(site)),
			el('div', { style: { fontSize: '12px', color: '#4d5156' } }, crumbs),
			el('div', { className: 'publisher-serp-title',
				style: { fontSize: '20px', lineHeight: '26px', color: '#1a0dab', margin: '4px 0' } },
			title.text),
			el('div', { className: 'publisher-serp-description',
				style: { fontSize: '14px', lineHeight: '22px', color: '#4d5156' } }, desc.text));
	}

	function heading(text) {
		return el('h3', { style: { fontSize: '13px', margin: '16px 0 8px', textTransform: 'none' } }, text);
	}

	function FactsList({ facts }) {
		if (!facts.length) {
			return el('p', { className: 'publisher-facts-none' },
				__('Aucun chiffre ni citation à vérifier : tout se retrouve dans les sources.', 'publisher-companion'));
		}
		return el('ul', { className: 'publisher-facts', style: { margin: 0 } }, facts.map((fact, i) =>
			el('li', { key: i, style: { borderLeft: '3px solid #dba617', paddingLeft: '8px', marginBottom: '10px' } },
				el('strong', null, fact.claim),
				fact.passage ? el('blockquote', { className: 'publisher-fact-passage',
					style: { margin: '4px 0 0', color: '#50575e', fontStyle: 'italic' } },
				__('Passage le plus proche : ', 'publisher-companion') + fact.passage) :
					el('div', { style: { color: '#50575e' } },
						__('Introuvable dans les sources : vérifiez-le avant de publier.', 'publisher-companion')),
				fact.source ? el('div', { style: { fontSize: '12px' } }, fact.source) : null)));
	}

	const COLORS = { bad: '#cc1818', ok: '#b26200', good: '#1e7e34' };
	const LEGACY = { pass: 'good', warn: 'ok', warning: 'ok', fail: 'bad', error: 'bad' };

	function statusOf(check) {
		const status = LEGACY[check.status] || check.status;
		return COLORS[status] ? status : 'ok';
	}

	function checkItem(check, i) {
		const status = statusOf(check);
		return el('li', { key: i, 'data-check': check.id || '', className: 'is-' + status,
			style: { display: 'flex', gap: '6px', marginBottom: '6px' } },
		el('span', { 'aria-hidden': true, style: { flex: '0 0 10px', height: '10px',
			marginTop: '4px', borderRadius: '50%', background: COLORS[status] } }),
		el('span', null, el('span', null, check.label || check.id || ''),
			check.detail ? el('span', { style: { display: 'block', color: '#50575e',
				fontSize: '12px' } }, check.detail) : null));
	}

	/** Problems first, as the dry-run preview groups them, under the same headings. */
	function ChecksList({ checks }) {
		const list = (Array.isArray(checks) ? checks : []).filter((c) => c && typeof c === 'object');
		if (!list.length) {
			return el('p', null, __('Aucun contrôle dans le rapport.', 'publisher-companion'));
		}
		const groups = ['bad', 'ok', 'good'].map((status) =>
			[status, list.filter((c) => statusOf(c) === status)]).filter(([, found]) => found.length);
		const count = ([status, found]) => found.length + ' '
			+ RULES.status[status][found.length < 2 ? 1 : 2];
		return el('div', { className: 'publisher-checks' },
			el('p', { className: 'publisher-checks-summary' }, groups.map(count).join(' · ')),
			groups.map(([status, found]) => el(Fragment, { key: status },
				el('h4', { style: { margin: '8px 0 4px', color: COLORS[status] } },
					RULES.status[status][0]),
				el('ul', { style: { margin: 0 } }, found.map(checkItem)))));
	}

	/** "Label — https://…" (or a bare URL): a link that opens beside the editor. */
	function SourcesList({ sources }) {
		const list = Array.isArray(sources) ? sources : [];
		if (!list.length) {
			return el('p', null, __('Aucune source enregistrée.', 'publisher-companion'));
		}
		return el('ul', { className: 'publisher-sources', style: { margin: 0 } }, list.map((item, i) => {
			const text = typeof item === 'string' ? item : String(item.url || item.title || '');
			const url = (text.match(/https?:\/\/\S+/) || [''])[0];
			const label = text.replace(url, '').replace(/\s*[—-]\s*$/, '').trim() || hostOf(url) || text;
			return el('li', { key: i }, url && /^https?:/.test(url) ?
				el('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label) : text);
		}));
	}

	function money(cost) {
		return Number(cost || 0).toLocaleString('fr-FR', { minimumFractionDigits: 4,
			maximumFractionDigits: 4 }) + ' $';
	}

	function Summary({ report, ai }) {
		const words = report.word_count || 0;
		const target = report.target_words || 0;
		const lines = [
			sprintf(__('Longueur : %1$d mots (objectif : %2$d)', 'publisher-companion'), words, target),
			sprintf(__('Modèle : %1$d appel(s), %2$d jetons en entrée, %3$d en sortie, coût estimé %4$s',
				'publisher-companion'), report.llm_calls || 0, report.tokens_in || 0,
			report.tokens_out || 0, money(report.cost)),
		];
		if (ai && ai.model) {
			lines.push(sprintf(__('Rédigé avec l’aide de l’IA (%1$s, %2$s)', 'publisher-companion'),
				ai.model, String(ai.date || '').slice(0, 10)));
		}
		return el('ul', { className: 'publisher-summary', style: { margin: 0 } },
			lines.map((line, i) => el('li', { key: i }, line)));
	}

	function Warnings({ report }) {
		const items = [...(report.warnings || []), ...(report.injections || [])]
			.map((w) => (typeof w === 'string' ? w : String(w.message || w.text || w.passage || '')))
			.filter(Boolean);
		if (!items.length) {
			return null;
		}
		return el(Fragment, null, heading(__('Avertissements', 'publisher-companion')),
			el('ul', { className: 'publisher-warnings', style: { margin: 0 } },
				items.map((w, i) => el('li', { key: i }, w))));
	}

	function ReviewState({ post }) {
		if (!post.savedReview) {
			return null;
		}
		const when = new Date(post.savedReview.time || '');
		return el('p', { className: 'publisher-review-recorded', style: { color: '#1e7e34' } },
			sprintf(__('Faits vérifiés par %1$s le %2$s.', 'publisher-companion'),
				post.savedReview.name || '?', isNaN(when) ? '?' : when.toLocaleString('fr-FR')));
	}

	function DocumentPanel() {
		const post = usePost();
		const report = post.report || {};
		const count = post.facts.length;
		return el(PluginDocumentSettingPanel, { name: PANEL, title: 'publisher',
			className: 'publisher-panel' },
		el(SeoFields, { post }),
		heading(__('Aperçu dans Google', 'publisher-companion')),
		el(Serp, { post }),
		heading(count ? sprintf(__('À vérifier (%d)', 'publisher-companion'), count) :
			__('Faits à vérifier', 'publisher-companion')),
		el(ReviewState, { post }),
		post.report ? el(FactsList, { facts: post.facts }) :
			el('p', null, __('Aucun rapport publisher pour cet article.', 'publisher-companion')),
		el(Warnings, { report }),
		heading(__('Contrôles SEO et lisibilité', 'publisher-companion')),
		el(ChecksList, { checks: report.checks }),
		heading(__('Sources', 'publisher-companion')),
		el(SourcesList, { sources: report.sources }),
		post.report ? heading(__('Résumé', 'publisher-companion')) : null,
		post.report ? el(Summary, { report, ai: post.ai }) : null);
	}

	// --- review before publishing ----------------------------------------------------------

	/** While mounted (the pre-publish panel is open), publishing waits for the confirmation. */
	function PublishLock() {
		const { lockPostSaving, unlockPostSaving } = useDispatch('core/editor');
		useEffect(() => {
			lockPostSaving(LOCK);
			return () => unlockPostSaving(LOCK);
		}, []);
		return null;
	}

	function ReviewPanel() {
		const post = usePost();
		const { editPost } = useDispatch('core/editor');
		if (!post.facts.length && !post.toVerify) {
			return null;
		}
		const confirmed = !!post.review;
		const onChange = (checked) => editPost({ meta: { publisher_review: checked ?
			JSON.stringify({ user: (config.user || {}).id || 0, name: (config.user || {}).name || '',
				time: new Date().toISOString() }) : '' } });
		return el(PluginPrePublishPanel, { title: __('publisher : faits à vérifier', 'publisher-companion'),
			initialOpen: true, className: 'publisher-prepublish' },
		confirmed ? null : el(PublishLock),
		el('p', null, sprintf(__('%d chiffre(s) ou citation(s) introuvable(s) dans les sources. '
			+ 'Vérifiez-les avant de publier.', 'publisher-companion'), post.facts.length)),
		el(FactsList, { facts: post.facts }),
		el(CheckboxControl, { className: 'publisher-review-confirm', checked: confirmed, onChange,
			label: __('J’ai vérifié ces chiffres et citations', 'publisher-companion') }));
	}

	/** The notice at the top of the editor, the panel opened, and the pre-publish step kept on. */
	function ReviewNotice() {
		const post = usePost();
		const pending = needsReview(post) && post.status !== 'publish';
		const { createNotice, removeNotice } = useDispatch('core/notices');
		const { enablePublishSidebar } = useDispatch('core/editor');
		useEffect(() => {
			if (!pending) {
				removeNotice(NOTICE);
				return;
			}
			enablePublishSidebar();
			// One id: shown once, replaced rather than stacked; not dismissible while pending.
			createNotice('warning', sprintf(__('publisher : %d chiffre(s) ou citation(s) à vérifier '
				+ 'avant de publier (voir le panneau « publisher »).', 'publisher-companion'),
			post.facts.length), { id: NOTICE, isDismissible: false,
				actions: [{ label: __('Voir les faits', 'publisher-companion'), onClick: showPanel }] });
		}, [pending, post.facts.length]);
		return null;
	}

	/** The document sidebar open on the publisher panel. Panel state lives in core/editor
	 * from WordPress 6.5, in core/edit-post before. */
	function showPanel() {
		wp.data.dispatch('core/edit-post').openGeneralSidebar('edit-post/document');
		const store = wp.data.select('core/editor').isEditorPanelOpened ? 'core/editor' : 'core/edit-post';
		if (!wp.data.select(store).isEditorPanelOpened(PLUGIN + '/' + PANEL)) {
			wp.data.dispatch(store).toggleEditorPanelOpened(PLUGIN + '/' + PANEL);
		}
	}

	function Publisher() {
		const hasReport = useSelect((select) =>
			!!(select('core/editor').getEditedPostAttribute('meta') || {}).publisher_report, []);
		useEffect(() => {
			if (hasReport) {
				showPanel();   // plugin panels start closed: a publisher draft opens on its report
			}
		}, [hasReport]);
		return el(Fragment, null, el(DocumentPanel), el(ReviewPanel), el(ReviewNotice));
	}

	wp.plugins.registerPlugin(PLUGIN, { render: Publisher, icon: 'media-text' });
}(window.wp, window.publisherCompanion));
