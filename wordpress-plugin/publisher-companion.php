<?php
/**
 * Plugin Name: publisher companion
 * Description: Lets publisher write SEO meta (Yoast, Rank Math) and its own report on drafts over the REST API, find a draft by its source hash, and shows the report to editors.
 * Version: 1.0.0
 * License: GPL-2.0-or-later
 *
 * Install: copy this single file into wp-content/mu-plugins/ (or wp-content/plugins/ and
 * activate it). What it adds, and nothing more:
 *  - post meta for 'post', visible in REST, writable only by users who can edit that post
 *    (never a generic "write any meta" endpoint);
 *  - the query parameter ?publisher_source_hash=… on GET /wp/v2/posts;
 *  - a "publisher — rapport" box in the post editor.
 * Detection: publisher looks for these meta keys in the schema of OPTIONS /wp/v2/posts
 * (schema.properties.meta.properties); the collection parameter publisher_source_hash
 * is listed there too (endpoints[0].args).
 */

if (!defined('ABSPATH')) {
    exit;
}

// The block-editor panel lives in the folder beside this file (a copy of the file alone still works).
if (file_exists(__DIR__ . '/publisher-companion/editor.php')) { require_once __DIR__ . '/publisher-companion/editor.php'; }

const PUBLISHER_COMPANION_META = array(
    '_yoast_wpseo_title', '_yoast_wpseo_metadesc', '_yoast_wpseo_focuskw',
    'rank_math_title', 'rank_math_description', 'rank_math_focus_keyword',
    'publisher_source_url', 'publisher_source_hash', 'publisher_report',
);

/** Whoever can edit this post may set its meta; keys starting with _ are protected otherwise. */
function publisher_companion_can_edit($allowed, $meta_key, $post_id) {
    return current_user_can('edit_post', $post_id);
}

function publisher_companion_sanitizer($key) {
    if ($key === 'publisher_source_url') {
        return 'esc_url_raw';
    }
    if ($key === 'publisher_report' || $key === 'publisher_source_hash') {
        return null;  // stored as sent (JSON); escaped when shown
    }
    return 'sanitize_text_field';
}

add_action('init', function () {
    foreach (PUBLISHER_COMPANION_META as $key) {
        register_post_meta('post', $key, array(
            'type' => 'string',
            'single' => true,
            'show_in_rest' => true,
            'default' => '',
            'auth_callback' => 'publisher_companion_can_edit',
            'sanitize_callback' => publisher_companion_sanitizer($key),
        ));
    }
});

// --- finding "the post that already carries this source hash" ---------------------------

add_filter('rest_post_collection_params', function ($params) {
    $params['publisher_source_hash'] = array(
        'description' => 'Limit results to posts whose publisher_source_hash meta equals this value.',
        'type' => 'string',
        'sanitize_callback' => 'sanitize_text_field',
    );
    return $params;
});

add_filter('rest_post_query', function ($args, $request) {
    $hash = $request->get_param('publisher_source_hash');
    if (is_string($hash) && $hash !== '') {
        $args['meta_query'] = isset($args['meta_query']) ? $args['meta_query'] : array();
        $args['meta_query'][] = array('key' => 'publisher_source_hash', 'value' => $hash, 'compare' => '=');
    }
    return $args;
}, 10, 2);

// --- the report, shown to the editor ----------------------------------------------------

add_action('add_meta_boxes_post', function () {
    add_meta_box('publisher-report', 'publisher — rapport', 'publisher_companion_render_box',
                 'post', 'normal', 'high');
});

function publisher_companion_render_box($post) {
    $raw = get_post_meta($post->ID, 'publisher_report', true);
    echo '<div class="publisher-report">';
    if (!is_string($raw) || trim($raw) === '') {
        echo '<p>' . esc_html('Aucun rapport publisher pour cet article.') . '</p>';
    } else {
        $report = json_decode($raw, true);
        if (is_array($report)) {
            publisher_companion_render_report($report);
        } else {
            echo '<pre style="white-space:pre-wrap">' . esc_html($raw) . '</pre>';
        }
    }
    echo '</div>';
}

/** A list item, a check or a source may be a string or an object: make it one line. */
function publisher_companion_text($item) {
    if (is_scalar($item) || $item === null) {
        return (string) $item;
    }
    foreach (array('message', 'text', 'label', 'title', 'url', 'detail') as $key) {
        if (isset($item[$key]) && is_scalar($item[$key])) {
            $extra = (isset($item['url']) && $key !== 'url') ? ' — ' . $item['url'] : '';
            return $item[$key] . $extra;
        }
    }
    return wp_json_encode($item, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
}

function publisher_companion_list($title, $items) {
    if (!is_array($items) || !$items) {
        return;
    }
    echo '<h4>' . esc_html($title) . '</h4><ul style="list-style:disc;margin-left:1.5em">';
    foreach ($items as $item) {
        echo '<li>' . esc_html(publisher_companion_text($item)) . '</li>';
    }
    echo '</ul>';
}

function publisher_companion_status_label($status) {
    $labels = array('pass' => 'OK', 'ok' => 'OK', 'warn' => 'À vérifier', 'warning' => 'À vérifier',
                    'fail' => 'Échec', 'error' => 'Échec', 'skip' => 'Ignoré', 'skipped' => 'Ignoré');
    $key = strtolower((string) $status);
    return isset($labels[$key]) ? $labels[$key] : (string) $status;
}

function publisher_companion_checks($checks) {
    if (!is_array($checks) || !$checks) {
        return;
    }
    echo '<h4>' . esc_html('Vérifications') . '</h4><ul style="list-style:disc;margin-left:1.5em">';
    foreach ($checks as $check) {
        if (!is_array($check)) {
            echo '<li>' . esc_html(publisher_companion_text($check)) . '</li>';
            continue;
        }
        $label = isset($check['label']) ? $check['label'] : (isset($check['id']) ? $check['id'] : '?');
        $line = $label . ' : ' . publisher_companion_status_label(isset($check['status']) ? $check['status'] : '');
        if (!empty($check['detail'])) {
            $line .= ' — ' . publisher_companion_text($check['detail']);
        }
        echo '<li>' . esc_html($line) . '</li>';
    }
    echo '</ul>';
}

function publisher_companion_summary($report) {
    $lines = array();
    if (isset($report['word_count'])) {
        $target = isset($report['target_words']) ? ' (objectif : ' . $report['target_words'] . ')' : '';
        $lines[] = 'Longueur : ' . $report['word_count'] . ' mots' . $target;
    }
    if (isset($report['llm_calls'])) {
        $lines[] = 'Appels au modèle : ' . $report['llm_calls'];
    }
    if (isset($report['tokens_in']) || isset($report['tokens_out'])) {
        $lines[] = 'Jetons : ' . (isset($report['tokens_in']) ? $report['tokens_in'] : 0) . ' en entrée, '
            . (isset($report['tokens_out']) ? $report['tokens_out'] : 0) . ' en sortie';
    }
    if (isset($report['cost']) && is_numeric($report['cost'])) {
        $lines[] = 'Coût estimé : ' . number_format((float) $report['cost'], 4, ',', ' ') . ' $';
    }
    publisher_companion_list('Résumé', $lines);
}

function publisher_companion_render_report($report) {
    publisher_companion_summary($report);
    publisher_companion_list('Avertissements', isset($report['warnings']) ? $report['warnings'] : null);
    publisher_companion_list('Corrections automatiques', isset($report['repairs']) ? $report['repairs'] : null);
    publisher_companion_list('Affirmations introuvables dans les sources',
                             isset($report['untraceable']) ? $report['untraceable'] : null);
    publisher_companion_checks(isset($report['checks']) ? $report['checks'] : null);
    publisher_companion_list('Sources', isset($report['sources']) ? $report['sources'] : null);
    $known = array('word_count', 'target_words', 'warnings', 'repairs', 'untraceable', 'checks',
                   'sources', 'llm_calls', 'tokens_in', 'tokens_out', 'cost');
    $rest = array();
    foreach ($report as $key => $value) {
        if (!in_array($key, $known, true)) {
            $rest[] = $key . ' : ' . publisher_companion_text($value);
        }
    }
    publisher_companion_list('Autres informations', $rest);
}
