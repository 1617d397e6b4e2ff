import DRLNN

/// A catalogue of `items` in `categories`, shown `slateSize` at a time, needs no more categories
/// and no larger slates than it has items.
func catalogueContradiction(items: Int, categories: Int, slateSize: Int) -> String? {
    if categories > items { return "'categories' (\(categories)) must not exceed 'items' (\(items))" }
    if slateSize > items { return "'slate_size' (\(slateSize)) must not exceed 'items' (\(items))" }
    return nil
}

extension EcommerceConfiguration: FileConfigurable {
    public var contradiction: String? {
        if let problem = catalogueContradiction(items: items, categories: categories, slateSize: slateSize) { return problem }
        guard segmentCategories <= categories else {
            return "'segment_categories' (\(segmentCategories)) must not exceed 'categories' (\(categories))"
        }
        return nil
    }

    public static var fileKeys: [String: ConfigurationKey<EcommerceConfiguration>] {
        let probability: ClosedRange<Float> = 0...1, weight: ClosedRange<Float> = -100...100
        return [
            "items": .integer(\.items, 20...1_000_000), "categories": .integer(\.categories, 1...10_000),
            "dimension": .integer(\.dimension, 1...1_024), "slate_size": .integer(\.slateSize, 1...100), "days": .integer(\.days, 1...365),
            "low_frequency_share": .number(\.lowFrequencyShare, probability), "cold_start_share": .number(\.coldStartShare, probability),
            "segments": .integer(\.segments, 1...1_000), "segment_categories": .integer(\.segmentCategories, 1...10_000),
            "segment_affinity": .number(\.segmentAffinity, probability),
            "session_steps": .integer(\.sessionSteps, 1...10_000), "low_frequency_session_steps": .integer(\.lowFrequencySessionSteps, 1...10_000),
            "patience": .integer(\.patience, 1...1_000), "choice_temperature": .number(\.choiceTemperature, 0...100),
            "no_click_utility": .number(\.noClickUtility, weight), "popularity_bias": .number(\.popularityBias, weight),
            "fatigue_weight": .number(\.fatigueWeight, weight), "repeat_penalty": .number(\.repeatPenalty, weight),
            "position_bias": .number(\.positionBias, weight), "fatigue_increment": .number(\.fatigueIncrement, 0...10),
            "fatigue_decay": .number(\.fatigueDecay, probability), "drift_rate": .number(\.driftRate, probability),
            "cart_base": .number(\.cartBase, weight), "cart_fit": .number(\.cartFit, weight), "cart_price": .number(\.cartPrice, weight),
            "wishlist_probability": .number(\.wishlistProbability, probability),
            "purchase_probability": .number(\.purchaseProbability, probability), "max_purchase_delay": .integer(\.maxPurchaseDelay, 1...100),
            "satisfaction_fit": .number(\.satisfactionFit, weight), "satisfaction_generic": .number(\.satisfactionGeneric, weight),
            "satisfaction_ignored": .number(\.satisfactionIgnored, weight), "satisfaction_fatigue": .number(\.satisfactionFatigue, weight),
            "initial_satisfaction": .number(\.initialSatisfaction, probability), "return_base": .number(\.returnBase, probability),
            "low_frequency_return_base": .number(\.lowFrequencyReturnBase, probability), "return_slope": .number(\.returnSlope, -1...1),
            "warm_history": .integer(\.warmHistory, 0...1_000), "history_tokens": .integer(\.historyTokens, 0...1_000), "head_fraction": .number(\.headFraction, 0...1),
            "retrieval": .integer(\.retrieval, 0...1_000_000), "retrieval_standing": .integer(\.retrievalStanding, 0...1_000_000),
            "diversity_penalty": .number(\.reward.diversity.weight, 0...100),
            "user_weight": .number(\.reward.objectives.user, 0...100), "platform_weight": .number(\.reward.objectives.platform, 0...100),
            "advertiser_weight": .number(\.reward.objectives.advertiser, 0...100),
        ]
    }
}

extension VideoFeedConfiguration: FileConfigurable {
    public var contradiction: String? { catalogueContradiction(items: items, categories: categories, slateSize: slateSize) }

    public static var fileKeys: [String: ConfigurationKey<VideoFeedConfiguration>] {
        let probability: ClosedRange<Float> = 0...1, weight: ClosedRange<Float> = -100...100
        return [
            "items": .integer(\.items, 20...1_000_000), "categories": .integer(\.categories, 1...10_000),
            "dimension": .integer(\.dimension, 1...1_024), "slate_size": .integer(\.slateSize, 1...100), "days": .integer(\.days, 1...365),
            "session_minutes": .number(\.sessionMinutes, 0.1...10_000), "low_frequency_session_minutes": .number(\.lowFrequencySessionMinutes, 0.1...10_000),
            "low_frequency_share": .number(\.lowFrequencyShare, probability), "browse_minutes": .number(\.browseMinutes, 0.01...100),
            "patience": .integer(\.patience, 1...1_000), "abandoned_view": .number(\.abandonedView, probability),
            "choice_temperature": .number(\.choiceTemperature, 0...100),
            "skip_utility": .number(\.skipUtility, weight), "clickbait_appeal": .number(\.clickbaitAppeal, weight),
            "fatigue_weight": .number(\.fatigueWeight, weight), "repeat_penalty": .number(\.repeatPenalty, weight),
            "fatigue_increment": .number(\.fatigueIncrement, 0...10), "fatigue_decay": .number(\.fatigueDecay, probability),
            "context_shift": .number(\.contextShift, 0...10), "watch_slope": .number(\.watchSlope, 0...100),
            "watch_centre": .number(\.watchCentre, weight), "bait_penalty": .number(\.baitPenalty, probability),
            "like_rate": .number(\.likeRate, probability), "share_rate": .number(\.shareRate, probability),
            "subscribe_rate": .number(\.subscribeRate, probability), "playlist_rate": .number(\.playlistRate, probability),
            "satisfaction_quality": .number(\.satisfactionQuality, weight), "satisfaction_bait": .number(\.satisfactionBait, weight),
            "satisfaction_skip": .number(\.satisfactionSkip, weight), "initial_satisfaction": .number(\.initialSatisfaction, probability),
            "return_base": .number(\.returnBase, probability), "low_frequency_return_base": .number(\.lowFrequencyReturnBase, probability),
            "return_slope": .number(\.returnSlope, -1...1), "interest_drift": .number(\.interestDrift, probability),
            "retrieval": .integer(\.retrieval, 0...1_000_000), "retrieval_standing": .integer(\.retrievalStanding, 0...1_000_000),
        ]
    }
}

extension EducationConfiguration: FileConfigurable {
    public static var fileKeys: [String: ConfigurationKey<EducationConfiguration>] {
        let probability: ClosedRange<Float> = 0...1, weight: ClosedRange<Float> = -100...100
        return [
            "skills": .integer(\.skills, 1...1_000), "difficulty_levels": .integer(\.difficultyLevels, 2...100),
            "mastery_threshold": .number(\.masteryThreshold, probability), "days": .integer(\.days, 1...365),
            "session_tasks": .integer(\.sessionTasks, 1...10_000), "completion_base": .number(\.completionBase, probability),
            "stretch": .number(\.stretch, -1...1), "scale": .number(\.scale, 0.001...10), "failure_gain": .number(\.failureGain, probability),
            "fatigue_recovery": .number(\.fatigueRecovery, probability), "preference_boost": .number(\.preferenceBoost, 0...10),
            "other_types": .number(\.otherTypes, 0...10), "frustration_limit": .integer(\.frustrationLimit, 1...1_000),
            "boredom_limit": .integer(\.boredomLimit, 1...1_000), "fatigue_limit": .number(\.fatigueLimit, probability),
            "return_base": .number(\.returnBase, probability), "return_slope": .number(\.returnSlope, -1...1),
            "boredom_penalty": .number(\.boredomPenalty, probability), "mastery_reward": .number(\.masteryReward, weight),
        ]
    }
}
